package catalogstore

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallel calls fn(i) for every i in [0, n), on up to GOMAXPROCS goroutines
// that take chunks of at least grain indexes; it returns when all calls have.
// Below two chunks it calls fn on the calling goroutine.
func parallel(n, grain int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(grain, 1))
	if workers < 2 {
		for i := range n {
			fn(i)
		}
		return
	}
	chunk := max(grain, n/(workers*4))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					fn(i)
				}
			}
		})
	}
	wg.Wait()
}
