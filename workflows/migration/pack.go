package migration

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
)

// packAbove is the number of targets past which an Input's targets and
// state travel gzipped: 10,000 targets are about 3 MB of JSON, over
// Temporal's 2 MB payload limit, and about a tenth of it packed.
const packAbove = 100

// inputJSON is Input's plain JSON form.
type inputJSON Input

// inputWire is Input as it travels: the targets and the state either plain
// or packed (gzipped JSON of packedInput).
type inputWire struct {
	inputJSON
	Targets []TargetInput `json:"targets,omitempty"`
	State   *State        `json:"state,omitempty"`
	Packed  []byte        `json:"packed,omitempty"`
}

type packedInput struct {
	Targets []TargetInput `json:"targets"`
	State   *State        `json:"state,omitempty"`
}

// MarshalJSON writes the input, its targets and state gzipped when there
// are more than a hundred targets.
func (in Input) MarshalJSON() ([]byte, error) {
	w := inputWire{inputJSON: inputJSON(in), Targets: in.Targets, State: in.State}
	if len(in.Targets) > packAbove {
		raw, err := json.Marshal(packedInput{Targets: in.Targets, State: in.State})
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		if err := zw.Close(); err != nil {
			return nil, err
		}
		w.Targets, w.State, w.Packed = nil, nil, buf.Bytes()
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads an input written by MarshalJSON, packed or not.
func (in *Input) UnmarshalJSON(b []byte) error {
	var w inputWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*in = Input(w.inputJSON)
	in.Targets, in.State = w.Targets, w.State
	if len(w.Packed) == 0 {
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(w.Packed))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	var p packedInput
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	in.Targets, in.State = p.Targets, p.State
	return nil
}
