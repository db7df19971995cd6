package reports

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A minimal Chrome DevTools Protocol client over --remote-debugging-pipe
// (fd 3: commands to Chromium, fd 4: its replies and events; messages are
// JSON terminated by NUL), using only the standard library.

// findChromium returns the browser to test with, or "" when there is none.
// YARDSTICK_CHROMIUM overrides the search.
func findChromium() string {
	if p := os.Getenv("YARDSTICK_CHROMIUM"); p != "" {
		if p, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *cdpError       `json:"error,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type browser struct {
	cmd     *exec.Cmd
	out     *os.File // our end of Chromium's command pipe
	mu      sync.Mutex
	next    int
	pending map[int]chan cdpMsg
	pages   map[string]chan cdpMsg // events by session id
	stderr  *strings.Builder
	done    chan struct{}
}

// startBrowser launches headless Chromium with the flags the CI uses.
func startBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, resW} // fd 3, fd 4
	stderr := &strings.Builder{}
	cmd.Stderr = &lockedWriter{b: stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	cmdR.Close()
	resW.Close()
	b := &browser{cmd: cmd, out: cmdW, pending: map[int]chan cdpMsg{}, pages: map[string]chan cdpMsg{}, stderr: stderr, done: make(chan struct{})}
	go b.read(resR)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.call(ctx, "", "Browser.close", nil, nil)
		cancel()
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
		cmdW.Close()
	})
	return b
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (b *browser) read(f *os.File) {
	defer close(b.done)
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMsg
		if err := json.Unmarshal(line[:len(line)-1], &m); err != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.pending[m.ID]
			delete(b.pending, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.mu.Lock()
		ch := b.pages[m.SessionID]
		b.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default: // a page that stopped listening must not block the reader
			}
		}
	}
}

// call sends one command and decodes its result into out (when non-nil).
func (b *browser) call(ctx context.Context, session, method string, params, out any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpMsg, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	b.mu.Lock()
	_, err = b.out.Write(append(data, 0))
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: browser closed the pipe", method)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// page is one attached tab with the console and exception events it saw.
type page struct {
	b        *browser
	session  string
	mu       sync.Mutex
	problems []string // console errors, exceptions, error log entries
	loaded   chan struct{}
	events   chan cdpMsg
}

func (b *browser) newPage(ctx context.Context, t *testing.T, width, height int) *page {
	t.Helper()
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		t.Fatal(err)
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatal(err)
	}
	p := &page{b: b, session: attached.SessionID, loaded: make(chan struct{}, 8), events: make(chan cdpMsg, 4096)}
	b.mu.Lock()
	b.pages[p.session] = p.events
	b.mu.Unlock()
	go p.watch()
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		if err := b.call(ctx, p.session, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.call(ctx, p.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
	}, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *page) watch() {
	for {
		var m cdpMsg
		select {
		case m = <-p.events:
		case <-p.b.done:
			return
		}
		switch m.Method {
		case "Page.loadEventFired":
			p.loaded <- struct{}{}
		case "Runtime.consoleAPICalled":
			var ev struct {
				Type string `json:"type"`
				Args []struct {
					Value       any    `json:"value"`
					Description string `json:"description"`
				} `json:"args"`
			}
			if json.Unmarshal(m.Params, &ev) == nil && (ev.Type == "error" || ev.Type == "assert") {
				p.problem(fmt.Sprintf("console.%s %v", ev.Type, ev.Args))
			}
		case "Runtime.exceptionThrown":
			p.problem("exception: " + string(m.Params))
		case "Log.entryAdded":
			var ev struct {
				Entry struct {
					Level  string `json:"level"`
					Text   string `json:"text"`
					Source string `json:"source"`
					URL    string `json:"url"`
				} `json:"entry"`
			}
			if json.Unmarshal(m.Params, &ev) == nil && ev.Entry.Level == "error" {
				p.problem(fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}
}

func (p *page) problem(s string) {
	p.mu.Lock()
	p.problems = append(p.problems, s)
	p.mu.Unlock()
}

func (p *page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// navigate loads url and returns the time to the load event.
func (p *page) navigate(ctx context.Context, url string) (time.Duration, error) {
	start := time.Now()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.b.call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return 0, err
	}
	if res.ErrorText != "" {
		return 0, errors.New(res.ErrorText)
	}
	select {
	case <-p.loaded:
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("waiting for load: %w", ctx.Err())
	}
}

// eval evaluates a JavaScript expression and decodes its JSON value.
func (p *page) eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true,
	}, &res); err != nil {
		return err
	}
	if len(res.ExceptionDetails) > 0 {
		return fmt.Errorf("evaluate %q: %s", expr, res.ExceptionDetails)
	}
	if out == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// waitFor polls a boolean expression until it is true.
func (p *page) waitFor(ctx context.Context, expr string) error {
	for {
		var ok bool
		if err := p.eval(ctx, "Boolean("+expr+")", &ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", expr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// screenshot captures the viewport (or the clip, when non-nil) as PNG.
func (p *page) screenshot(ctx context.Context, path string, clip map[string]any) error {
	params := map[string]any{"format": "png"}
	if clip != nil {
		params["clip"] = clip
		params["captureBeyondViewport"] = true
	}
	var res struct {
		Data string `json:"data"`
	}
	if err := p.b.call(ctx, p.session, "Page.captureScreenshot", params, &res); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		return err
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		return errors.New("screenshot is not a PNG")
	}
	return os.WriteFile(path, png, 0o644)
}

// artifactDir is where screenshots and reports go: the test's temp dir, or
// YARDSTICK_REPORT_ARTIFACTS when set, so they outlive the test.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("YARDSTICK_REPORT_ARTIFACTS"); d != "" {
		d = filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}
