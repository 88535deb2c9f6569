//go:build ignore

// The build tag keeps `go build ./...` from meeting two main packages in this folder; the
// interop suite builds each program by naming its file, which bypasses the tag.

// Command h2server is an x/net/http2 server for sluice's clients to talk to: h2c (prior
// knowledge, through h2c.NewHandler) or TLS with ALPN h2 when -cert and -key are given.
//
// Routes: GET / (a short text), GET /bytes/N (N bytes, byte i is i % 251), POST /echo (the
// request body streamed back), GET /trailers (a body, then the trailer grpc-status: 0).
//
// It prints "listening on <url>" once it accepts connections. On SIGTERM or SIGINT it shuts
// down gracefully: http.Server.Shutdown sends GOAWAY on every HTTP/2 connection, in-flight
// streams finish, and the program exits 0 once every connection has closed (1 if some are
// still open after -grace).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// patternPeriod is the period of the /bytes/N body: byte i is i % patternPeriod.
const patternPeriod = 251

// rootBody is the body of GET /.
const rootBody = "hello from Go x/net/http2\n"

// patternBlock is a whole number of periods, so consecutive blocks continue the pattern.
var patternBlock = func() []byte {
	block := make([]byte, patternPeriod*256)
	for i := range block {
		block[i] = byte(i % patternPeriod)
	}
	return block
}()

func serveRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.Header().Set("content-length", strconv.Itoa(len(rootBody)))
	io.WriteString(w, rootBody)
}

func serveBytes(w http.ResponseWriter, r *http.Request) {
	size, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/bytes/"), 10, 64)
	if err != nil || size < 0 {
		http.Error(w, "want /bytes/N", http.StatusBadRequest)
		return
	}
	w.Header().Set("content-type", "application/octet-stream")
	w.Header().Set("content-length", strconv.FormatInt(size, 10))
	for remaining := size; remaining > 0; {
		chunk := patternBlock
		if remaining < int64(len(chunk)) {
			chunk = chunk[:remaining]
		}
		if _, err := w.Write(chunk); err != nil {
			return // the client went away
		}
		remaining -= int64(len(chunk))
	}
}

// serveEcho copies the request body to the response as it arrives (HTTP/2 is full duplex).
func serveEcho(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		http.Error(w, "use POST for /echo", http.StatusMethodNotAllowed)
		return
	}
	contentType := r.Header.Get("content-type")
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	w.Header().Set("content-type", contentType)
	w.WriteHeader(http.StatusOK)
	io.Copy(w, r.Body)
}

// serveTrailers sends a body, then the trailer grpc-status: 0 (declared before the headers).
func serveTrailers(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("trailer", "grpc-status")
	w.Header().Set("content-type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "the trailer follows\n")
	w.Header().Set("grpc-status", "0")
}

// trackingListener counts the connections it accepted that are still open. Shutdown does not
// wait for hijacked connections, and h2c connections are hijacked, so the program waits here.
type trackingListener struct {
	net.Listener
	open sync.WaitGroup
}

func (l *trackingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Add(1)
	return &trackedConn{Conn: conn, done: l.open.Done}, nil
}

// trackedConn reports its first Close to the listener.
type trackedConn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *trackedConn) Close() error {
	c.once.Do(c.done)
	return c.Conn.Close()
}

// waitClosed reports whether every accepted connection closed within the limit.
func (l *trackingListener) waitClosed(limit time.Duration) bool {
	closed := make(chan struct{})
	go func() {
		l.open.Wait()
		close(closed)
	}()
	select {
	case <-closed:
		return true
	case <-time.After(limit):
		return false
	}
}

func main() {
	address := flag.String("addr", "127.0.0.1:0", "address to listen on")
	certFile := flag.String("cert", "", "certificate (PEM); with -key serves TLS")
	keyFile := flag.String("key", "", "private key (PEM)")
	grace := flag.Duration("grace", 15*time.Second, "how long in-flight streams may take after SIGTERM")
	flag.Parse()
	isTLS := *certFile != "" || *keyFile != ""

	mux := http.NewServeMux()
	mux.HandleFunc("/", serveRoot)
	mux.HandleFunc("/bytes/", serveBytes)
	mux.HandleFunc("/echo", serveEcho)
	mux.HandleFunc("/trailers", serveTrailers)

	h2 := &http2.Server{}
	server := &http.Server{Handler: mux}
	if !isTLS {
		server.Handler = h2c.NewHandler(mux, h2)
	}
	// ConfigureServer registers h2's graceful shutdown (GOAWAY) with server.Shutdown, for h2c
	// connections too, and offers h2 by ALPN.
	if err := http2.ConfigureServer(server, h2); err != nil {
		fmt.Fprintln(os.Stderr, "h2server:", err)
		os.Exit(1)
	}
	inner, err := net.Listen("tcp", *address)
	if err != nil {
		fmt.Fprintln(os.Stderr, "h2server:", err)
		os.Exit(1)
	}
	listener := &trackingListener{Listener: inner}
	served := make(chan error, 1)
	scheme := "http"
	if isTLS {
		scheme = "https"
		go func() { served <- server.ServeTLS(listener, *certFile, *keyFile) }()
	} else {
		go func() { served <- server.Serve(listener) }()
	}
	fmt.Printf("listening on %s://%s\n", scheme, inner.Addr())

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-signals:
	case err := <-served:
		fmt.Fprintln(os.Stderr, "h2server:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "h2server: shutdown:", err)
		os.Exit(1)
	}
	if !listener.waitClosed(*grace) {
		fmt.Fprintln(os.Stderr, "h2server: connections still open after", *grace)
		os.Exit(1)
	}
}
