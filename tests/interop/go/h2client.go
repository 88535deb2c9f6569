//go:build ignore

// The build tag keeps `go build ./...` from meeting two main packages in this folder; the
// interop suite builds each program by naming its file, which bypasses the tag.

// Command h2client drives a `sluice serve` URL with Go's x/net/http2 client, the way an
// application would: bodies are read with io.Copy, so Go returns flow-control credit in its
// normal rhythm (including the WINDOW_UPDATEs it sends after a stream has ended).
//
// Mode "load" runs three workloads at once: GETs of /, downloads of /bytes/N checked against
// the pattern (byte i is i % 251), and uploads to /echo of random sizes checked by SHA-256.
// Mode "graceful" keeps downloads in flight on one connection and announces "graceful: ready"
// on stderr; the caller then stops the server. Every request must either complete intact or
// fail with an error Go's transport treats as retryable (the request was not processed).
//
// Either mode prints one JSON line (see summary) and exits 1 on any failure.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// patternPeriod is the period of the /bytes/N body: byte i is i % patternPeriod.
const patternPeriod = 251

// options are the command-line flags.
type options struct {
	baseURL           string
	mode              string
	gets              int
	getConcurrency    int
	downloads         int
	downloadSize      int
	uploads           int
	maxUpload         int
	uploadConcurrency int
	seed              int64
	timeout           time.Duration
	gracefulWorkers   int
	gracefulSize      int
	gracefulMax       int
	readyAfter        int
}

func parseOptions() options {
	var o options
	flag.StringVar(&o.baseURL, "url", "", "the server, http://host:port (h2c) or https://host:port (TLS, not verified)")
	flag.StringVar(&o.mode, "mode", "load", "load or graceful")
	flag.IntVar(&o.gets, "gets", 2000, "load: GETs of /")
	flag.IntVar(&o.getConcurrency, "get-concurrency", 100, "load: GETs in flight at once")
	flag.IntVar(&o.downloads, "downloads", 20, "load: downloads of /bytes/N")
	flag.IntVar(&o.downloadSize, "download-size", 1<<20, "load: N of /bytes/N")
	flag.IntVar(&o.uploads, "uploads", 50, "load: POSTs to /echo")
	flag.IntVar(&o.maxUpload, "max-upload", 4<<20, "load: largest upload, bytes (sizes are uniform in 0..max)")
	flag.IntVar(&o.uploadConcurrency, "upload-concurrency", 8, "load: uploads in flight at once")
	flag.Int64Var(&o.seed, "seed", 0, "seed of the upload sizes and contents; 0 picks one (printed)")
	flag.DurationVar(&o.timeout, "timeout", 90*time.Second, "the whole run's limit")
	flag.IntVar(&o.gracefulWorkers, "graceful-workers", 32, "graceful: requests kept in flight")
	flag.IntVar(&o.gracefulSize, "graceful-size", 256<<10, "graceful: N of each /bytes/N")
	flag.IntVar(&o.gracefulMax, "graceful-max", 4000, "graceful: the most requests started before giving up on the shutdown")
	flag.IntVar(&o.readyAfter, "ready-after", 64, "graceful: completed requests before announcing ready")
	flag.Parse()
	if o.seed == 0 {
		o.seed = time.Now().UnixNano()
	}
	return o
}

// summary is the one JSON line the program prints.
type summary struct {
	Mode string `json:"mode"`
	Seed int64  `json:"seed"`
	// OK and Failed count requests by workload (get, download, upload, graceful).
	OK     map[string]int `json:"ok"`
	Failed map[string]int `json:"failed"`
	// Retryable counts requests the server did not process (graceful mode).
	Retryable int `json:"retryable"`
	// FinishedAfterGoaway counts requests that completed intact after the GOAWAY arrived.
	FinishedAfterGoaway int `json:"finishedAfterGoaway"`
	// Errors counts each distinct failure text; RetryableErrors each distinct retryable one.
	Errors          map[string]int `json:"errors"`
	RetryableErrors map[string]int `json:"retryableErrors"`
	// Goaways counts each distinct GOAWAY frame received (code and debug data).
	Goaways   map[string]int `json:"goaways"`
	ElapsedMs int64          `json:"elapsedMs"`
}

// tally collects outcomes from many goroutines.
type tally struct {
	mu sync.Mutex
	s  summary
}

func newTally(mode string, seed int64) *tally {
	return &tally{s: summary{
		Mode: mode, Seed: seed,
		OK: map[string]int{}, Failed: map[string]int{},
		Errors: map[string]int{}, RetryableErrors: map[string]int{}, Goaways: map[string]int{},
	}}
}

func (t *tally) ok(workload string) {
	t.mu.Lock()
	t.s.OK[workload]++
	t.mu.Unlock()
}

func (t *tally) fail(workload string, err error) {
	t.mu.Lock()
	t.s.Failed[workload]++
	t.s.Errors[workload+": "+err.Error()]++
	t.mu.Unlock()
}

func (t *tally) retryable(err error) {
	t.mu.Lock()
	t.s.Retryable++
	t.s.RetryableErrors[err.Error()]++
	t.mu.Unlock()
}

// goaway records a GOAWAY frame; one with an error code is a failure of the connection.
func (t *tally) goaway(code http2.ErrCode, debug string) {
	text := fmt.Sprintf("GOAWAY(%s) debug=%q", code, debug)
	t.mu.Lock()
	t.s.Goaways[text]++
	t.mu.Unlock()
	if code != http2.ErrCodeNo {
		t.fail("connection", errors.New("server sent "+text))
	}
}

func (t *tally) failedCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	total := 0
	for _, n := range t.s.Failed {
		total += n
	}
	return total
}

// patternChecker is an io.Writer that checks that the bytes written follow the pattern.
type patternChecker struct {
	offset   int64
	mismatch error
}

func (p *patternChecker) Write(b []byte) (int, error) {
	for i, got := range b {
		want := byte((p.offset + int64(i)) % patternPeriod)
		if got != want && p.mismatch == nil {
			p.mismatch = fmt.Errorf("byte %d is %d, want %d", p.offset+int64(i), got, want)
		}
	}
	p.offset += int64(len(b))
	return len(b), nil
}

// checkPattern reads a /bytes/N body and reports a short, corrupt or unreadable one.
func checkPattern(body io.Reader, size int) error {
	var checker patternChecker
	if _, err := io.Copy(&checker, body); err != nil {
		return fmt.Errorf("body cut after %d of %d bytes: %w", checker.offset, size, err)
	}
	if checker.offset != int64(size) {
		return fmt.Errorf("body has %d bytes, want %d", checker.offset, size)
	}
	return checker.mismatch
}

// newTransport is an x/net/http2 transport for the URL's scheme: h2c with prior knowledge
// (plain TCP in place of the TLS dial) or TLS without certificate verification. Every
// connection it makes is tapped for GOAWAY frames (see frameTap).
func newTransport(scheme string, t *tally) *http2.Transport {
	transport := &http2.Transport{AllowHTTP: scheme == "http"}
	if scheme == "https" {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	transport.DialTLSContext = func(ctx context.Context, network, addr string, config *tls.Config) (net.Conn, error) {
		return dialTapped(ctx, scheme, addr, config, t)
	}
	return transport
}

// dialTapped dials addr, over TLS for https (config carries ALPN h2 and skips verification),
// and wraps the connection in a frameTap that records GOAWAY frames in t.
func dialTapped(ctx context.Context, scheme, addr string, config *tls.Config, t *tally) (net.Conn, error) {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if scheme == "https" {
		tlsConn := tls.Client(conn, config)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		// The transport checks ALPN only on connections it dials itself.
		if protocol := tlsConn.ConnectionState().NegotiatedProtocol; protocol != "h2" {
			conn.Close()
			return nil, fmt.Errorf("ALPN chose %q, not h2", protocol)
		}
		conn = tlsConn
	}
	return &frameTap{Conn: conn, onGoaway: t.goaway}, nil
}

// frameTap passes a connection's reads through unchanged while following the server's frame
// headers, so GOAWAY frames (their code and debug data) can be reported: the transport turns
// them into generic errors such as "client conn is closed". Only the transport's read loop
// calls Read, so the tap needs no lock.
type frameTap struct {
	net.Conn
	onGoaway func(code http2.ErrCode, debug string)

	header     [9]byte // RFC 9113 §4.1 frame header being filled
	headerFill int
	remaining  int    // payload bytes of the current frame still to come
	goaway     []byte // the current GOAWAY payload, kept up to maxGoawayKept bytes
	inGoaway   bool
}

// maxGoawayKept bounds the GOAWAY payload kept: last-stream-id, code and 512 bytes of debug.
const maxGoawayKept = 8 + 512

// frameTypeGoaway is GOAWAY's frame type (RFC 9113 §6.8).
const frameTypeGoaway = 0x7

func (f *frameTap) Read(b []byte) (int, error) {
	n, err := f.Conn.Read(b)
	f.follow(b[:n])
	return n, err
}

// follow advances over received bytes: header, then payload, frame after frame.
func (f *frameTap) follow(data []byte) {
	for len(data) > 0 {
		if f.headerFill < len(f.header) {
			copied := copy(f.header[f.headerFill:], data)
			f.headerFill += copied
			data = data[copied:]
			if f.headerFill < len(f.header) {
				return
			}
			f.remaining = int(f.header[0])<<16 | int(f.header[1])<<8 | int(f.header[2])
			f.inGoaway = f.header[3] == frameTypeGoaway
			f.goaway = f.goaway[:0]
			if f.remaining == 0 {
				f.endFrame()
				continue
			}
		}
		take := f.remaining
		if take > len(data) {
			take = len(data)
		}
		if f.inGoaway && len(f.goaway) < maxGoawayKept {
			keep := take
			if keep > maxGoawayKept-len(f.goaway) {
				keep = maxGoawayKept - len(f.goaway)
			}
			f.goaway = append(f.goaway, data[:keep]...)
		}
		f.remaining -= take
		data = data[take:]
		if f.remaining == 0 {
			f.endFrame()
		}
	}
}

// endFrame reports a completed GOAWAY and readies the tap for the next header.
func (f *frameTap) endFrame() {
	f.headerFill = 0
	if f.inGoaway && len(f.goaway) >= 8 {
		code := uint32(f.goaway[4])<<24 | uint32(f.goaway[5])<<16 | uint32(f.goaway[6])<<8 | uint32(f.goaway[7])
		f.onGoaway(http2.ErrCode(code), string(f.goaway[8:]))
	}
	f.inGoaway = false
}

// exchange sends one request through send and hands a 200 response to read; the body is
// closed afterwards. send is http.Client.Do, or ClientConn.RoundTrip to see errors unretried.
func exchange(ctx context.Context, send func(*http.Request) (*http.Response, error), method, target string, body io.Reader, read func(*http.Response) error) error {
	request, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	if body != nil {
		request.Header.Set("content-type", "application/octet-stream")
	}
	response, err := send(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", response.StatusCode)
	}
	return read(response)
}

// get fetches / and reads the whole body.
func get(ctx context.Context, client *http.Client, base string) error {
	return exchange(ctx, client.Do, http.MethodGet, base+"/", nil, func(response *http.Response) error {
		read, err := io.Copy(io.Discard, response.Body)
		if err != nil {
			return fmt.Errorf("body cut after %d bytes: %w", read, err)
		}
		if read == 0 || (response.ContentLength >= 0 && read != response.ContentLength) {
			return fmt.Errorf("body has %d bytes, content-length %d", read, response.ContentLength)
		}
		return nil
	})
}

// download fetches /bytes/size through send and checks the pattern.
func download(ctx context.Context, send func(*http.Request) (*http.Response, error), base string, size int) error {
	return exchange(ctx, send, http.MethodGet, fmt.Sprintf("%s/bytes/%d", base, size), nil, func(response *http.Response) error {
		return checkPattern(response.Body, size)
	})
}

// upload posts payload to /echo and checks the SHA-256 of what comes back. A bytes.Reader
// gives the request a GetBody, so Go may resend it after a refused stream.
func upload(ctx context.Context, client *http.Client, base string, payload []byte) error {
	return exchange(ctx, client.Do, http.MethodPost, base+"/echo", bytes.NewReader(payload), func(response *http.Response) error {
		hash := sha256.New()
		read, err := io.Copy(hash, response.Body)
		if err != nil {
			return fmt.Errorf("echo cut after %d of %d bytes: %w", read, len(payload), err)
		}
		sent := sha256.Sum256(payload)
		if got := hex.EncodeToString(hash.Sum(nil)); read != int64(len(payload)) || got != hex.EncodeToString(sent[:]) {
			return fmt.Errorf("echo of %d bytes came back as %d bytes with sha256 %s", len(payload), read, got)
		}
		return nil
	})
}

// runPool calls work(i) for i in [0, count) on `workers` goroutines and waits for all.
func runPool(count, workers int, work func(i int)) {
	next := int64(-1)
	var group sync.WaitGroup
	for w := 0; w < workers; w++ {
		group.Add(1)
		go func() {
			defer group.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= count {
					return
				}
				work(i)
			}
		}()
	}
	group.Wait()
}

// uploadPayloads picks the upload bodies: the first empty, the second the largest, the rest
// of random size, all views of one random buffer at random offsets.
func uploadPayloads(o options) [][]byte {
	random := rand.New(rand.NewSource(o.seed))
	pool := make([]byte, 2*o.maxUpload)
	random.Read(pool)
	payloads := make([][]byte, o.uploads)
	for i := range payloads {
		size := random.Intn(o.maxUpload + 1)
		switch i {
		case 0:
			size = 0
		case 1:
			size = o.maxUpload
		}
		offset := random.Intn(len(pool) - size + 1)
		payloads[i] = pool[offset : offset+size]
	}
	return payloads
}

// runLoad runs the GETs, downloads and uploads at once over one transport.
func runLoad(ctx context.Context, o options, scheme string, t *tally) {
	client := &http.Client{Transport: newTransport(scheme, t)}
	payloads := uploadPayloads(o)
	record := func(workload string, err error) {
		if err != nil {
			t.fail(workload, err)
		} else {
			t.ok(workload)
		}
	}
	var group sync.WaitGroup
	group.Add(3)
	go func() {
		defer group.Done()
		runPool(o.gets, o.getConcurrency, func(int) { record("get", get(ctx, client, o.baseURL)) })
	}()
	go func() {
		defer group.Done()
		runPool(o.downloads, o.downloads, func(int) { record("download", download(ctx, client.Do, o.baseURL, o.downloadSize)) })
	}()
	go func() {
		defer group.Done()
		runPool(o.uploads, o.uploadConcurrency, func(i int) { record("upload", upload(ctx, client, o.baseURL, payloads[i])) })
	}()
	group.Wait()
	client.CloseIdleConnections()
}

// The texts of the errors x/net/http2 (v0.7.0) returns for requests it may resend because
// the server did not process them; the variables are unexported, so their texts are matched.
var retryableTexts = map[string]bool{
	"http2: Transport received Server's graceful shutdown GOAWAY": true, // above GOAWAY's last-stream-id
	"http2: client conn not usable":                               true, // not sent: GOAWAY already received
}

// isRetryable mirrors the transport's own rule (canRetryError): the two errors above, and
// RST_STREAM(REFUSED_STREAM).
func isRetryable(err error) bool {
	if retryableTexts[err.Error()] {
		return true
	}
	var streamError http2.StreamError
	return errors.As(err, &streamError) && streamError.Code == http2.ErrCodeRefusedStream
}

// dialOne opens one HTTP/2 connection without a pool, so that what GOAWAY does to each
// request is seen as is, not hidden by the transport's automatic resend on a new connection.
func dialOne(ctx context.Context, target *url.URL, t *tally) (*http2.ClientConn, error) {
	config := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}
	conn, err := dialTapped(ctx, target.Scheme, target.Host, config, t)
	if err != nil {
		return nil, err
	}
	return newTransport(target.Scheme, t).NewClientConn(conn)
}

// runGraceful keeps gracefulWorkers downloads in flight on one connection until each worker
// meets a retryable error (the server is going away), or the bounds run out.
func runGraceful(ctx context.Context, o options, target *url.URL, t *tally) {
	conn, err := dialOne(ctx, target, t)
	if err != nil {
		t.fail("graceful", err)
		return
	}
	defer conn.Close()
	var started, completed int64
	var announce sync.Once
	runPool(o.gracefulWorkers, o.gracefulWorkers, func(int) {
		for ctx.Err() == nil && atomic.AddInt64(&started, 1) <= int64(o.gracefulMax) {
			err := download(ctx, conn.RoundTrip, o.baseURL, o.gracefulSize)
			if err != nil && isRetryable(err) {
				t.retryable(err)
				return
			}
			if err != nil {
				t.fail("graceful", err)
				continue
			}
			t.ok("graceful")
			if conn.State().Closing {
				t.mu.Lock()
				t.s.FinishedAfterGoaway++
				t.mu.Unlock()
			}
			if atomic.AddInt64(&completed, 1) >= int64(o.readyAfter) {
				announce.Do(func() { fmt.Fprintln(os.Stderr, "graceful: ready") })
			}
		}
	})
	if t.s.Retryable == 0 {
		t.fail("graceful", fmt.Errorf("no GOAWAY within %d requests or %s", o.gracefulMax, o.timeout))
	}
}

func main() {
	o := parseOptions()
	target, err := url.Parse(o.baseURL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		fmt.Fprintf(os.Stderr, "h2client: -url must be http://host:port or https://host:port, not %q\n", o.baseURL)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	t := newTally(o.mode, o.seed)
	began := time.Now()
	switch o.mode {
	case "load":
		runLoad(ctx, o, target.Scheme, t)
	case "graceful":
		runGraceful(ctx, o, target, t)
	default:
		fmt.Fprintf(os.Stderr, "h2client: -mode must be load or graceful, not %q\n", o.mode)
		os.Exit(2)
	}
	t.s.ElapsedMs = time.Since(began).Milliseconds()
	line, _ := json.Marshal(t.s)
	fmt.Println(string(line))
	if t.failedCount() > 0 {
		os.Exit(1)
	}
}
