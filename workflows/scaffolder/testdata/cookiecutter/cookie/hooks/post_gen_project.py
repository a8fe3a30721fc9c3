# A cookiecutter hook is code: Backlot runs it in the sandbox, as user 65534
# with no network. It records what it saw.
import os
import socket

try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    network = "yes"
except OSError:
    network = "no"
with open("hook.txt", "w") as f:
    f.write("uid=%d network=%s\n" % (os.getuid(), network))
