// Package customaction reads the files that register custom scaffolder
// actions: each action id is mapped to a Temporal activity on a task queue
// of its own (written with any Temporal SDK) or to an executable that reads
// its input as JSON on stdin and writes its output as JSON on stdout, with
// the JSON Schemas of its input and output and a description. The workers
// and the API load the same files (backlot dev and serve take them with
// --custom-actions); package scaffolder runs the actions.
package customaction
