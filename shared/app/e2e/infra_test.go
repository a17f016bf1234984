package e2e_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// --- a TCP proxy in front of MariaDB that can sever connections ---

// dbProxy forwards TCP connections to the database server. cutOn arms a
// one-shot trigger: the first client packet containing the bytes is
// forwarded (so the server runs it), then every connection is severed and
// the proxy refuses new ones (accepts and closes at once) until restore.
type dbProxy struct {
	ln       net.Listener
	upstream string

	mu      sync.Mutex
	down    bool
	trigger []byte
	conns   map[net.Conn]bool
	cuts    int
}

func startDBProxy(t *testing.T, upstream string) *dbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, upstream: upstream, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.sever() })
	go p.accept()
	return p
}

func (p *dbProxy) addr() string { return p.ln.Addr().String() }

func (p *dbProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close() // like a server whose connections are killed on arrival
			continue
		}
		go p.serve(c)
	}
}

func (p *dbProxy) serve(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.upstream, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(c, u); c.Close(); u.Close() }()
	buf := make([]byte, 64*1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := u.Write(buf[:n]); werr != nil {
				break
			}
			p.mu.Lock()
			hit := p.trigger != nil && bytes.Contains(buf[:n], p.trigger)
			if hit {
				p.trigger = nil
			}
			p.mu.Unlock()
			if hit {
				// Give the server a moment to start running the statement,
				// then kill everything mid-transaction.
				time.Sleep(20 * time.Millisecond)
				p.cutAll()
				break
			}
		}
		if err != nil {
			break
		}
	}
	c.Close()
	u.Close()
}

// cutOn arms the one-shot trigger.
func (p *dbProxy) cutOn(s string) {
	p.mu.Lock()
	p.trigger = []byte(s)
	p.mu.Unlock()
}

func (p *dbProxy) cutAll() {
	p.mu.Lock()
	p.down = true
	p.cuts++
	p.mu.Unlock()
	p.sever()
}

func (p *dbProxy) sever() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *dbProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *dbProxy) cutCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// --- a dedicated Redis server process ---

type redisProc struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startRedis runs redis-server on a free loopback port, without
// persistence, and waits until it answers.
func startRedis(t *testing.T) *redisProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server (needed for the Redis-failure scenario) could not start: %v", err)
	}
	r := &redisProc{cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	t.Cleanup(r.kill)
	c := goredis.NewClient(&goredis.Options{Addr: r.addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer: %v", r.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server abruptly (SIGKILL, the process we started only).
func (r *redisProc) kill() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Kill()
	<-r.done
}
