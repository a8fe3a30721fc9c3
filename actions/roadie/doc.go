// Command backlot-action-roadie is the Roadie utils file actions as a
// Backlot executable action: roadiehq:utils:fs:append, roadiehq:utils:fs:write,
// roadiehq:utils:json:merge and roadiehq:utils:zip, chosen by the first
// argument (fs-append, fs-write, json-merge, zip). It reads the action's
// input as JSON on stdin, works in its working folder (the task's workspace
// inside the sandbox) and writes its output as JSON on stdout.
package main
