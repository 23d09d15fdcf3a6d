"""Everything after the run record: the results DataFrame and the statistics that turn numbers
into verdicts. No TensorFlow, nothing from cell/, evaluate/ or grid/: it reads records only, so
it runs in milliseconds anywhere and is tested on crafted records (tests/data/runs/)."""
