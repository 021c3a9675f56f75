// Command nodedouble is the chain node of the process benchmark
// (bench/process): nodetest.EVM as a process of its own, so that its CPU and
// memory are counted apart from the server's. It prints its URL on stdout
// once it listens; GET /stats answers how many transactions it took.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/custoskms/custos/internal/broadcast/nodetest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	chainID := flag.Uint64("chain-id", 1337, "the chain id transactions must carry")
	gasPrice := flag.Uint64("gas-price", 20_000_000_000, "the gas price answered")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	node := nodetest.NewEVM(*chainID, *gasPrice)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int{"admitted": node.Admitted()})
	})
	mux.Handle("POST /", node)
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Printf("http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
