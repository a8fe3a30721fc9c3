// Command ${{ values.name }} is a Go HTTP service.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = ":${{ values.port }}"
	}
	log.Printf("${{ values.name }} listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, newMux()))
}

// newMux routes the service's endpoints.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	return mux
}
