// Package github posts Yardstick's Markdown report on a pull request through
// the GitHub REST API, updating the comment an earlier run posted instead of
// adding another one. It is what `yardstick ci comment` and the GitHub Action
// call; it needs no gh, jq or curl.
//
// It does not read the environment: the caller passes the API URL, token,
// repository and pull-request number (see PullRequestNumber for the event
// file Actions provide).
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
)

// CommentLimit is the most characters GitHub accepts in a comment body.
const CommentLimit = 65536

// Client talks to one GitHub API endpoint.
type Client struct {
	// APIURL is the API root, e.g. https://api.github.com or
	// https://ghe.example.com/api/v3 ($GITHUB_API_URL in Actions). Empty:
	// https://api.github.com.
	APIURL string
	// Token authenticates the calls ($GITHUB_TOKEN). It is sent only in the
	// Authorization header and never appears in errors.
	Token string
	// HTTP is the client used; nil: http.DefaultClient.
	HTTP *http.Client
}

// Error is a failed API call.
type Error struct {
	Method, Path string // the call, without host or query
	Status       int    // HTTP status; 0 when no response arrived
	Message      string // GitHub's message, or the transport error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("github: %s %s: %s", e.Method, e.Path, e.Message)
	}
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " (the token was refused)"
	case http.StatusForbidden, http.StatusNotFound:
		hint = " (does the token have pull-requests: write / issues: write permission on this repository?)"
	}
	return fmt.Sprintf("github: %s %s: %d %s%s", e.Method, e.Path, e.Status, e.Message, hint)
}

// Marker is the hidden line that identifies the comment of one report key,
// so a later run updates that comment. Several jobs posting different
// reports on one pull request use different keys.
func Marker(key string) string {
	if key == "" {
		key = "default"
	}
	return "<!-- yardstick-report:" + strings.ReplaceAll(key, "--", "-") + " -->"
}

// Body is the comment posted for report: the report followed by the marker,
// cut at a line boundary with a note if the two would pass CommentLimit.
func Body(report, key string) string {
	marker := "\n" + Marker(key) + "\n"
	report = strings.TrimRight(report, "\n") + "\n"
	if len([]rune(report))+len([]rune(marker)) <= CommentLimit {
		return report + marker
	}
	const note = "\n…(report truncated to fit a comment; see the report.html artifact)\n"
	budget := CommentLimit - len([]rune(marker)) - len([]rune(note))
	r := []rune(report)[:budget]
	cut := string(r)
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i+1]
	}
	return cut + note + marker
}

// Upserted says what Upsert did.
type Upserted struct {
	ID      int64
	URL     string // the comment's html_url
	Updated bool   // an existing comment was edited rather than a new one posted
}

type comment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
}

// Upsert posts report as a comment on pull request pr of repo ("owner/name"),
// or edits the comment carrying the same key's Marker if there is one.
func (c *Client) Upsert(ctx context.Context, repo string, pr int, key, report string) (Upserted, error) {
	if !regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`).MatchString(repo) {
		return Upserted{}, fmt.Errorf("github: repository %q: want owner/name", repo)
	}
	if pr <= 0 {
		return Upserted{}, fmt.Errorf("github: pull request number %d: want a positive number", pr)
	}
	body := Body(report, key)
	marker := Marker(key)
	existing, err := c.findComment(ctx, fmt.Sprintf("/repos/%s/issues/%d/comments?per_page=100", repo, pr), marker)
	if err != nil {
		return Upserted{}, err
	}
	payload, _ := json.Marshal(map[string]string{"body": body})
	var out comment
	if existing != 0 {
		err = c.do(ctx, http.MethodPatch, fmt.Sprintf("/repos/%s/issues/comments/%d", repo, existing), payload, &out, nil)
		return Upserted{ID: out.ID, URL: out.HTMLURL, Updated: true}, err
	}
	err = c.do(ctx, http.MethodPost, fmt.Sprintf("/repos/%s/issues/%d/comments", repo, pr), payload, &out, nil)
	return Upserted{ID: out.ID, URL: out.HTMLURL}, err
}

// findComment pages through a pull request's comments and returns the id of
// the last one containing marker, or 0.
func (c *Client) findComment(ctx context.Context, path, marker string) (int64, error) {
	var found int64
	for page := 0; path != "" && page < 100; page++ {
		var cs []comment
		var next string
		if err := c.do(ctx, http.MethodGet, path, nil, &cs, &next); err != nil {
			return 0, err
		}
		for _, cm := range cs {
			if strings.Contains(cm.Body, marker) {
				found = cm.ID
			}
		}
		path = next
	}
	return found, nil
}

var linkNext = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// do makes one call; path is relative to APIURL, or an absolute URL from a
// Link header. next, when not nil, receives the next page's URL.
func (c *Client) do(ctx context.Context, method, path string, payload []byte, out any, next *string) error {
	root := strings.TrimRight(c.APIURL, "/")
	if root == "" {
		root = "https://api.github.com"
	}
	url := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		url = root + path
	}
	shown, _, _ := strings.Cut(strings.TrimPrefix(url, root), "?")
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return &Error{Method: method, Path: shown, Message: err.Error()}
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "yardstick")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		msg := err.Error()
		if c.Token != "" {
			msg = strings.ReplaceAll(msg, c.Token, "[redacted]")
		}
		return &Error{Method: method, Path: shown, Message: msg}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return &Error{Method: method, Path: shown, Status: resp.StatusCode, Message: err.Error()}
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		msg := http.StatusText(resp.StatusCode)
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		return &Error{Method: method, Path: shown, Status: resp.StatusCode, Message: msg}
	}
	if next != nil {
		*next = ""
		if m := linkNext.FindStringSubmatch(resp.Header.Get("Link")); m != nil {
			*next = m[1]
		}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Method: method, Path: shown, Status: resp.StatusCode, Message: "unreadable response: " + err.Error()}
	}
	return nil
}

// PullRequestNumber reads the pull-request number from a GitHub Actions
// event file ($GITHUB_EVENT_PATH): pull_request, pull_request_target and
// issue_comment events on a pull request carry one. ok is false for other
// events (a push has no pull request).
func PullRequestNumber(eventPath string) (n int, ok bool, err error) {
	data, err := os.ReadFile(eventPath)
	if err != nil {
		return 0, false, fmt.Errorf("github: event file: %w", err)
	}
	var ev struct {
		Number      int `json:"number"`
		PullRequest *struct {
			Number int `json:"number"`
		} `json:"pull_request"`
		Issue *struct {
			Number      int             `json:"number"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return 0, false, fmt.Errorf("github: event file %s: %w", eventPath, err)
	}
	switch {
	case ev.PullRequest != nil && ev.PullRequest.Number > 0:
		return ev.PullRequest.Number, true, nil
	case ev.Issue != nil && len(ev.Issue.PullRequest) > 0 && ev.Issue.Number > 0:
		return ev.Issue.Number, true, nil
	}
	return 0, false, nil
}

// ErrNoPullRequest is returned by callers when the event has no pull request.
var ErrNoPullRequest = errors.New("github: the event is not about a pull request")
