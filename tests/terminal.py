"""Processes started as a terminal starts them, for the tests that press Ctrl-C.

A shell starts a background job with SIGINT ignored (`(cmd &)`, a CI step run in the
background), its children inherit that, and Python then installs no KeyboardInterrupt handler:
a grid started that way ignores Ctrl-C, as the user's shell asked. A test that sends SIGINT to
test the grid's Ctrl-C must start it as a foreground job would be started.
"""

import signal


def ctrl_c_as_in_a_terminal():
    """preexec_fn for subprocess.Popen: SIGINT back to its default in the child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
