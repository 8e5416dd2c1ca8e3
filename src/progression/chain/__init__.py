"""Running the chain: the run context notebooks write through, the runner, the report and the command line."""
