"""The steps of the chain's notebooks: one module per notebook, each step a function that returns a tidy table
carrying its disclosure declaration (:mod:`progression.disclosure`)."""
