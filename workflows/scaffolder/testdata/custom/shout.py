#!/usr/bin/python3
# A custom action in Python: reads {"text": ...} on stdin, writes
# {"shouted": ...} on stdout and a SHOUT.txt file into the workspace.
import json, sys

inp = json.load(sys.stdin)
text = inp["text"]
if text == "fail":
    print("shout: refusing to shout fail", file=sys.stderr)
    sys.exit(3)
with open("SHOUT.txt", "w") as f:
    f.write(text.upper() + "\n")
print("shouted " + str(len(text)) + " characters", file=sys.stderr)
json.dump({"shouted": text.upper()}, sys.stdout)
