package catalog

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// EncodeJSON returns exactly what json.Marshal returns for v, faster for the
// values a decoded body holds (maps with string keys, slices, strings,
// float64 and int numbers, booleans and null): it writes them without
// reflection, sorting map keys as json.Marshal does, and hands any other value
// and any string it would escape to json.Marshal. Stored bodies, their hashes
// and etags therefore do not change with it.
func EncodeJSON(v any) ([]byte, error) {
	return appendJSON(make([]byte, 0, 512), v)
}

func appendJSON(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, t[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		if t == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, item := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, item); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case string:
		return appendJSONString(b, t), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case nil:
		return append(b, "null"...), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case float64:
		// json.Marshal writes a float64 in 'f' form between 1e-6 and 1e21.
		if abs := math.Abs(t); abs == 0 || (abs >= 1e-6 && abs < 1e21) {
			return strconv.AppendFloat(b, t, 'f', -1, 64), nil
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

// appendJSONString writes s quoted; a string json.Marshal would escape
// anything in (a quote, a backslash, <, > or &, a control character or any
// byte outside ASCII) is written by json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
