package reports

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// Payloads a model (or a hostile suite file) could produce. Each would leave
// a mark if it ran: the document title, an attribute on <html>, or a global.
var payloads = []string{
	`<script>document.title='PWNED';window.__pwned=1</script>`,
	`<img src=x onerror="document.documentElement.setAttribute('data-xss','img')">`,
	`</script><script>document.documentElement.setAttribute('data-xss','breakout')</script>`,
	`<svg onload="document.documentElement.setAttribute('data-xss','svg')"></svg>`,
	`<!--<script>window.__pwned=2</script>-->`,
	"\u2028</script>\u2029<script>window.__pwned=3</script>",
	`"><iframe src="javascript:parent.__pwned=4"></iframe>`,
	`{{.CSS}} ${alert(1)} <style>body{display:none}</style>`,
}

// maliciousRun is a small run where every text field carries a payload.
func maliciousRun() (*Input, []*bench.Result) {
	in := sampleInput()
	in.Meta.Title = payloads[0]
	in.Meta.RunID = payloads[1]
	in.Outcomes = append(in.Outcomes, gate.Outcome{Threshold: payloads[2], Source: payloads[3], Display: payloads[4], Reason: payloads[5]})
	in.Comparisons[0].A = payloads[6]
	in.Regressions[0].Output = payloads[1]
	in.Regressions[0].CaseID = payloads[2]
	in.Flaky[0].CaseID = payloads[3]
	in.Summaries[1].Target = payloads[7]
	var rs []*bench.Result
	targets := []string{"openai:gpt-4o-mini", payloads[7], "ollama:llama3.1:8b"}
	for i := 0; i < 40; i++ {
		p := payloads[i%len(payloads)]
		for ti, tg := range targets {
			for rep := 0; rep < 2; rep++ {
				r := &bench.Result{
					Suite: "support", CaseID: fmt.Sprintf("case-%02d %s", i, p), Target: tg, Model: tg, Repeat: rep,
					Prompt:   []providers.Message{{Role: "system", Content: p}, {Role: p, Content: "Ticket: " + p}},
					Expected: p, Output: p, Reason: p, Pass: (i+ti+rep)%3 != 0, Score: 1,
					Latency: time.Duration(300+50*i+200*ti) * time.Millisecond,
					Scores:  []bench.ScorePart{{Name: p, Value: 0.5, Reason: p}, {Name: "exact", Value: 1, Pass: true}},
				}
				if i%9 == 4 && ti == 2 {
					r.Error = &bench.ErrorInfo{Kind: providers.Kind(p), Message: p}
				}
				rs = append(rs, r)
			}
		}
	}
	return in, rs
}

func writeReport(t *testing.T, path string, in *Input, results, baseline []*bench.Result) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := HTML(w, in, seqOf(results), HTMLOptions{Baseline: seqOf(baseline)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHTMLInBrowser opens reports in headless Chromium through the DevTools
// protocol: a small run whose every field carries script-injection payloads,
// and a 100,000-case run. It checks that no payload ran, that the page logs
// no console error, exception or CSP violation, that filters, search and
// paging work, takes screenshots and reports load times. It skips when no
// Chromium is installed (Debian: apt-get install -y chromium).
func TestHTMLInBrowser(t *testing.T) {
	exe := findChromium()
	if exe == "" {
		t.Skip("chromium not found (install Debian's chromium package, or set YARDSTICK_CHROMIUM); skipping the browser test")
	}
	b := startBrowser(t, exe)
	dir := artifactDir(t)

	t.Run("malicious", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		in, rs := maliciousRun()
		base := baselineOf(rs)
		path := filepath.Join(dir, "malicious.html")
		writeReport(t, path, in, rs, base)

		p := b.newPage(ctx, t, 1280, 2000)
		if _, err := p.navigate(ctx, "file://"+path); err != nil {
			t.Fatal(err)
		}
		if err := p.waitFor(ctx, `document.documentElement.hasAttribute('data-ready')`); err != nil {
			t.Fatalf("%v; problems: %v", err, p.Problems())
		}
		checks := []struct{ name, expr string }{
			{"title is the literal text", `document.title === ` + jsString(payloads[0])},
			{"no payload marked <html>", `!document.documentElement.hasAttribute('data-xss')`},
			{"no payload set a global", `window.__pwned === undefined`},
			{"only our two scripts", `document.scripts.length === 2`},
			{"no injected elements", `document.querySelectorAll('img,iframe,object,embed,svg script,body style,link').length === 0`},
			{"no event-handler attributes", `![...document.querySelectorAll('*')].some(e => [...e.attributes].some(a => a.name.startsWith('on')))`},
			{"outputs shown as text", `[...document.querySelectorAll('pre.out')].some(e => e.textContent === ` + jsString(payloads[1]) + `)`},
			{"every case rendered", `document.querySelectorAll('article.case').length === 40`},
			{"every target pane rendered", `document.querySelectorAll('.pane').length === 120`},
			{"no script problems", `!document.documentElement.hasAttribute('data-problems')`},
		}
		for _, c := range checks {
			var ok bool
			if err := p.eval(ctx, c.expr, &ok); err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Errorf("%s: %s is false", c.name, c.expr)
			}
		}
		// Every filter and the search render without problems.
		for _, flag := range []string{"1", "2", "4", "8", "16", "0"} {
			var n int
			if err := p.eval(ctx, `(() => { document.querySelector('[data-flag="`+flag+`"]').click(); return document.querySelectorAll('article.case').length })()`, &n); err != nil {
				t.Fatal(err)
			}
			t.Logf("filter %s: %d cases shown", flag, n)
		}
		var found int
		if err := p.eval(ctx, `(async () => { const s = document.querySelector('input.search'); s.value = 'case-07'; s.dispatchEvent(new Event('input')); await new Promise(r => setTimeout(r, 300)); return document.querySelectorAll('article.case').length })()`, &found); err != nil {
			t.Fatal(err)
		}
		if found != 1 {
			t.Errorf("search for case-07 shows %d cases, want 1", found)
		}
		if probs := p.Problems(); len(probs) > 0 {
			t.Errorf("console errors, exceptions or CSP violations:\n%s", strings.Join(probs, "\n"))
		}
		if err := p.eval(ctx, `window.scrollTo(0, 0)`, nil); err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(dir, "malicious.png")
		if err := p.screenshot(ctx, shot, nil); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", shot)
	})

	t.Run("search, URL fragment, 820px", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		in, rs := searchRun()
		path := filepath.Join(dir, "search.html")
		writeReport(t, path, in, rs, nil)
		p := b.newPage(ctx, t, 1280, 1600)
		if _, err := p.navigate(ctx, "file://"+path); err != nil {
			t.Fatal(err)
		}
		if err := p.waitFor(ctx, `document.documentElement.hasAttribute('data-ready')`); err != nil {
			t.Fatalf("%v; problems: %v", err, p.Problems())
		}
		// search types q and returns the ids of the cases shown.
		search := func(q string) []string {
			var ids []string
			if err := p.eval(ctx, `(async () => { const s = document.querySelector('input.search'); s.value = `+jsString(q)+`; s.dispatchEvent(new Event('input'));
				await new Promise(r => setTimeout(r, 300)); return [...document.querySelectorAll('article.case .cid')].map(e => e.textContent) })()`, &ids); err != nil {
				t.Fatal(err)
			}
			return ids
		}
		for _, c := range []struct {
			q    string
			want string
		}{
			{"zanzibar", "case-05"},        // a word of one target's output
			{"ZANZIBAR parcel", "case-05"}, // every word, any case
			{"marmalade", "case-03"},       // a word of the prompt
			{"quokka", "case-08"},          // the expected answer
			{"case-119", "case-119"},       // the id still works
		} {
			if got := search(c.q); len(got) != 1 || got[0] != c.want {
				t.Errorf("search %q shows %v, want [%s]", c.q, got, c.want)
			}
		}
		if got := search("zanzibar quokka"); len(got) != 0 {
			t.Errorf("search with words of two cases shows %v, want none", got)
		}

		// A filtered view is in the URL; opening that URL shows the same view.
		search("answer")
		var hash string
		if err := p.eval(ctx, `(() => { document.querySelector('[data-flag="1"]').click(); document.querySelector('.pager button:last-child').click(); return location.hash })()`, &hash); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(hash, "f=failures") || !strings.Contains(hash, "q=answer") || !strings.Contains(hash, "p=2") {
			t.Fatalf("fragment %q lacks the filter, query or page", hash)
		}
		viewOf := func(pg *page) string {
			var v string
			if err := pg.eval(ctx, `[document.querySelector('input.search').value, document.querySelector('.chip[aria-pressed=true]').dataset.flag,
				document.querySelector('.status').textContent, ...[...document.querySelectorAll('article.case .cid')].map(e => e.textContent)].join('|')`, &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		want := viewOf(p)
		p2 := b.newPage(ctx, t, 1280, 1600)
		if _, err := p2.navigate(ctx, "file://"+path+hash); err != nil {
			t.Fatal(err)
		}
		if err := p2.waitFor(ctx, `document.documentElement.hasAttribute('data-ready')`); err != nil {
			t.Fatal(err)
		}
		if got := viewOf(p2); got != want {
			t.Errorf("the copied URL opens another view:\n got %s\nwant %s", got, want)
		}
		if !strings.Contains(want, "answer|1|Showing 51–") {
			t.Errorf("view %q is not page 2 of the failures matching 'answer'", want)
		}

		// At 820 px no target column of a case card is clipped.
		p3 := b.newPage(ctx, t, 820, 1400)
		if _, err := p3.navigate(ctx, "file://"+path); err != nil {
			t.Fatal(err)
		}
		if err := p3.waitFor(ctx, `document.documentElement.hasAttribute('data-ready')`); err != nil {
			t.Fatal(err)
		}
		var clipped []string
		if err := p3.eval(ctx, `[...document.querySelectorAll('article.case')].flatMap(c => { const cr = c.getBoundingClientRect();
			return [...c.querySelectorAll('.pane')].filter(p => { const r = p.getBoundingClientRect();
				return r.left < cr.left - 0.5 || r.right > cr.right + 0.5 || r.width < 120 || p.scrollWidth > p.clientWidth + 1 }).map(p => c.dataset.case + ':' + p.querySelector('.tname').textContent) })`, &clipped); err != nil {
			t.Fatal(err)
		}
		if len(clipped) > 0 {
			t.Errorf("clipped panes at 820px: %v", clipped)
		}
		var wide bool
		if err := p3.eval(ctx, `document.documentElement.scrollWidth > 820`, &wide); err != nil {
			t.Fatal(err)
		}
		if wide {
			t.Error("the page scrolls sideways at 820px")
		}
		if err := p3.eval(ctx, `document.getElementById('cases-card').scrollIntoView()`, nil); err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(dir, "cases-820.png")
		if err := p3.screenshot(ctx, shot, nil); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", shot)
		for _, pg := range []*page{p, p2, p3} {
			if probs := pg.Problems(); len(probs) > 0 {
				t.Errorf("console errors, exceptions or CSP violations:\n%s", strings.Join(probs, "\n"))
			}
		}
	})

	t.Run("100k", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: skipping the 100,000-case report")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		s := synth{suites: []string{"support", "billing"}, targets: []string{"openai:gpt-4o-mini", "ollama:llama3.1:8b"}, nCases: 100_000, repeats: 1, seed: 1, malicious: true}
		in := &Input{Meta: Meta{Title: "100,000 cases", RunID: "synthetic"}, Summaries: s.summaries()}
		path := filepath.Join(dir, "100k.html")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := HTML(f, in, s.results(false), HTMLOptions{Baseline: s.results(true)}); err != nil {
			t.Fatal(err)
		}
		gen := time.Since(start)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(path)
		t.Logf("generated 100,000 cases × 2 targets (+ baseline) in %v: %.1f MB", gen.Round(time.Millisecond), float64(st.Size())/1e6)

		p := b.newPage(ctx, t, 1280, 2000)
		load, err := p.navigate(ctx, "file://"+path)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.waitFor(ctx, `document.documentElement.hasAttribute('data-ready')`); err != nil {
			t.Fatalf("%v; problems: %v", err, p.Problems())
		}
		var m struct {
			Ready  string `json:"ready"`
			Read   string `json:"read"`
			Index  string `json:"index"`
			Parse  string `json:"parse"`
			Render string `json:"render"`
			Cases  int    `json:"cases"`
			Status string `json:"status"`
		}
		if err := p.eval(ctx, `({ready: document.documentElement.dataset.ready, parse: document.documentElement.dataset.parseMs,
			read: document.documentElement.dataset.readMs, index: document.documentElement.dataset.indexMs,
			render: document.documentElement.dataset.renderMs, cases: document.querySelectorAll('article.case').length,
			status: document.querySelector('.status').textContent})`, &m); err != nil {
			t.Fatal(err)
		}
		t.Logf("load event after %v; first page rendered %sms after navigation start (script: read data %sms, JSON.parse %sms, index %sms, first render %sms); %s",
			load.Round(time.Millisecond), m.Ready, m.Read, m.Parse, m.Index, m.Render, m.Status)
		if m.Cases != 50 || !strings.Contains(m.Status, "of 100,000 cases") {
			t.Errorf("first page shows %d cases, status %q", m.Cases, m.Status)
		}
		// Interactions on the full run stay fast: a filter over 100,000 cases
		// and a page change.
		for _, c := range []struct{ name, expr string }{
			{"failures filter", `document.querySelector('[data-flag="1"]').click()`},
			{"regressions filter", `document.querySelector('[data-flag="4"]').click()`},
			{"next page", `document.querySelector('.pager button:last-child').click()`},
			{"all cases", `document.querySelector('[data-flag="0"]').click()`},
		} {
			var ms float64
			if err := p.eval(ctx, `(() => { const t = performance.now(); `+c.expr+`; return performance.now() - t })()`, &ms); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %.1f ms", c.name, ms)
		}
		var ok bool
		if err := p.eval(ctx, `!document.documentElement.hasAttribute('data-xss') && window.__pwned === undefined && document.title === '100,000 cases'`, &ok); err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Error("a payload in the 100k run executed")
		}
		if probs := p.Problems(); len(probs) > 0 {
			t.Errorf("console errors, exceptions or CSP violations:\n%s", strings.Join(probs, "\n"))
		}
		for _, sh := range []struct{ name, scroll string }{
			{"100k-top.png", `window.scrollTo(0, 0)`},
			{"100k-cases.png", `document.getElementById('cases-card').scrollIntoView()`},
		} {
			if err := p.eval(ctx, sh.scroll, nil); err != nil {
				t.Fatal(err)
			}
			shot := filepath.Join(dir, sh.name)
			if err := p.screenshot(ctx, shot, nil); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", shot)
		}
	})
}

// jsString quotes s as a JavaScript string literal (JSON is a subset).
func jsString(s string) string {
	return string(appendJSONString(nil, s))
}

// searchRun has 120 cases × 3 targets with long names; a few words occur in
// one place only: "zanzibar" and "parcel" in one output of case-05,
// "marmalade" in case-03's prompt, "quokka" in case-08's expected answer.
// Every output contains "answer".
func searchRun() (*Input, []*bench.Result) {
	in := sampleInput()
	targets := []string{"openai:gpt-4o-mini-2024-07-18", "gemini:gemini-2.5-flash-preview", "ollama:llama3.1:8b-instruct-q4_K_M"}
	var rs []*bench.Result
	for i := 0; i < 120; i++ {
		id := fmt.Sprintf("case-%02d", i)
		prompt := fmt.Sprintf("Ticket %d: where is my order?", i)
		if i == 3 {
			prompt = "Ticket 3: the marmalade jar arrived broken"
		}
		expected := "order_status"
		if i == 8 {
			expected = "quokka"
		}
		for ti, tg := range targets {
			out := fmt.Sprintf("answer %d from target %d: order_status with a longish explanation that wraps over several lines in a narrow pane", i, ti)
			if i == 5 && ti == 2 {
				out = "answer: the parcel went to Zanzibar"
			}
			rs = append(rs, &bench.Result{
				Suite: "support", CaseID: id, Target: tg, Model: tg,
				Prompt:   []providers.Message{{Role: "user", Content: prompt}},
				Expected: expected, Output: out, Pass: (i+ti)%2 == 0, Score: float64((i + ti + 1) % 2),
				Latency: time.Duration(200+i) * time.Millisecond,
			})
		}
	}
	return in, rs
}
