"""Figures: free functions over tidy frames, one module per analysis. Import matplotlib lazily."""
