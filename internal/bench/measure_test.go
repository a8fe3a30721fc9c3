package bench

import "testing"

func TestPercentiles(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Latency
	}{
		{"none", nil, Latency{}},
		{"one", []float64{7}, Latency{P50: 7, P95: 7, P99: 7, N: 1}},
		{"hundred, unsorted", func() []float64 {
			var ds []float64
			for i := 100; i >= 1; i-- {
				ds = append(ds, float64(i))
			}
			return ds
		}(), Latency{P50: 50, P95: 95, P99: 99, N: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentiles(tt.in); got != tt.want {
				t.Errorf("percentiles = %+v, want %+v", got, tt.want)
			}
		})
	}
}
