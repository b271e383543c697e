package ferrule

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// goroutinesSettle waits for the goroutine count to come back to base.
func goroutinesSettle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, started with %d:\n%s", runtime.NumGoroutine(), base,
				buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ferruleServerConfig(t *testing.T) *Config {
	return &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(t)}}
}

// A ferrule server echoing every connection until its listener closes.
func echoListener(t *testing.T, cfg *Config) (net.Listener, *sync.WaitGroup) {
	t.Helper()
	l, err := Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(60 * time.Second))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l, &wg
}

func TestThousandConcurrentConnections(t *testing.T) {
	pki(t)
	base := runtime.NumGoroutine()
	l, wg := echoListener(t, ferruleServerConfig(t))
	cfg := ferruleClientConfig("ecdsa")
	const n = 1000
	errs := make(chan error, n)
	var start sync.WaitGroup
	start.Add(1)
	for i := 0; i < n; i++ {
		go func(i int) {
			start.Wait()
			c, err := Dial("tcp", l.Addr().String(), cfg)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			msg := []byte{byte(i), byte(i >> 8), 1, 2, 3}
			if _, err := c.Write(msg); err != nil {
				errs <- err
				return
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				errs <- err
				return
			}
			if string(got) != string(msg) {
				errs <- errors.New("echo differs")
				return
			}
			errs <- nil
		}(i)
	}
	start.Done()
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("connection: %v", err)
		}
	}
	l.Close()
	wg.Wait()
	goroutinesSettle(t, base)
}

func TestConcurrentReadWriteClose(t *testing.T) {
	pki(t)
	base := runtime.NumGoroutine()
	l, wg := echoListener(t, ferruleServerConfig(t))
	for round := 0; round < 20; round++ {
		c := dialFerrule(t, l.Addr().String(), ferruleClientConfig("ecdsa"))
		var rw sync.WaitGroup
		rw.Add(2)
		go func() { // writer
			defer rw.Done()
			buf := make([]byte, 4096)
			for {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
		go func() { // reader
			defer rw.Done()
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}()
		time.Sleep(time.Duration(round%5) * time.Millisecond)
		_ = c.ConnectionState() // concurrent introspection
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("close: %v", err)
		}
		rw.Wait()
		if _, err := c.Write([]byte{1}); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("read after close succeeded")
		}
		if err := c.Close(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("second close: %v", err)
		}
	}
	l.Close()
	wg.Wait()
	goroutinesSettle(t, base)
}

func TestCloseUnblocksRead(t *testing.T) {
	pki(t)
	l, wg := echoListener(t, ferruleServerConfig(t))
	defer func() { l.Close(); wg.Wait() }()
	c := dialFerrule(t, l.Addr().String(), ferruleClientConfig("ecdsa"))
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10)) // the echo server sends nothing
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read returned data")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
}

// stalledPeer accepts and never answers.
func stalledPeer(t *testing.T) (string, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return l.Addr().String(), func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}
}

func TestHandshakeDeadlineAndContext(t *testing.T) {
	pki(t)
	base := runtime.NumGoroutine()
	addr, stop := stalledPeer(t)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := Client(raw, ferruleClientConfig("ecdsa"))
	_ = c.SetDeadline(time.Now().Add(100 * time.Millisecond))
	err = c.Handshake()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("handshake against a stalled peer: %v, want a timeout", err)
	}
	c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	d := &Dialer{Config: ferruleClientConfig("ecdsa")}
	if _, err := d.DialContext(ctx, "tcp", addr); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DialContext: %v, want the context's deadline", err)
	}
	stop()
	goroutinesSettle(t, base)
}

func TestPeerThatNeverReads(t *testing.T) {
	pki(t)
	// A ferrule server writing to a client that never reads: Write blocks
	// in the transport, the connection's memory stays bounded, and the
	// write deadline ends it.
	cfg := ferruleServerConfig(t)
	res := make(chan error, 1)
	var used int
	addr, _ := serve(t, ferruleServer(cfg), func(c net.Conn) error {
		fc := c.(*Conn)
		if err := fc.Handshake(); err != nil {
			return err
		}
		_ = c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		buf := make([]byte, 1<<20)
		var err error
		for err == nil {
			_, err = c.Write(buf)
			if m := fc.MemoryUsed(); m > used {
				used = m
			}
		}
		res <- err
		return nil
	})
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cc := Client(raw, ferruleClientConfig("ecdsa"))
	if err := cc.Handshake(); err != nil {
		t.Fatal(err)
	}
	err = <-res
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write to a peer that never reads: %v, want a timeout", err)
	}
	if used == 0 || used > 128<<10 {
		t.Fatalf("server connection held %d bytes while blocked", used)
	}
}
