"""Jobs: flows across every stage (grid, history, comparison, pages), each one function that
the command line calls. The top of the package: a job may import any stage; no stage imports a
job."""
