package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server timeouts: a pending POST of a million IDs is about 40 MB, so reads
// get a minute; writes also cover a node's broadcast answer.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 30 * time.Second
)

// httpServer is one HTTP listener of the binary (serve's and dev's API, the
// daemon's metrics), set up and shut down the same way everywhere.
type httpServer struct {
	srv  *http.Server
	addr net.Addr
	errc chan error
}

// startHTTP listens on addr and serves h in the background until stop.
func startHTTP(addr string, h http.Handler, log *slog.Logger) (*httpServer, error) {
	return startServer(addr, h, log, nil)
}

// startServer is startHTTP speaking TLS with tc when it is set.
func startServer(addr string, h http.Handler, log *slog.Logger, tc *tls.Config) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	s := &httpServer{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		addr: ln.Addr(),
		errc: make(chan error, 1),
	}
	go func() {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.errc <- fmt.Errorf("serve: %w", err)
		}
	}()
	return s, nil
}

// failed delivers the error that stopped the server before stop was called.
func (s *httpServer) failed() <-chan error { return s.errc }

// stop lets the requests in flight finish, for at most shutdownTimeout, even
// when ctx is already cancelled (it usually is: that is why we stop).
func (s *httpServer) stop(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// startMetrics serves GET /metrics alone on addr, without a key: the
// operator chooses an address only the scraper reaches.
func startMetrics(addr string, h http.Handler, log *slog.Logger) (*httpServer, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv, err := startHTTP(addr, mux, log)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	log.Info("metrics", "listen", srv.addr.String())
	return srv, nil
}
