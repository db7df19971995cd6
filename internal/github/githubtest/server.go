// Package githubtest is a fake of the GitHub REST API's issue-comment
// endpoints, for tests: it lists comments a page at a time with Link
// headers, creates and edits them, and refuses calls without the token.
package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

// Comment is a comment the fake holds.
type Comment struct {
	ID    int64
	Issue int
	Body  string
}

// Server is the fake API. PageSize (default 2) is small so tests exercise
// pagination.
type Server struct {
	Token    string
	PageSize int
	srv      *httptest.Server
	mu       sync.Mutex
	repo     string
	comments []Comment
	nextID   int64
	calls    []string
}

var (
	listRE  = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$`)
	patchRE = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$`)
)

// NewServer starts a fake for repository repo ("owner/name") accepting
// token; it stops when the test ends.
func NewServer(t testing.TB, repo, token string) *Server {
	s := &Server{Token: token, PageSize: 2, repo: repo, nextID: 1000}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API root to use as the client's APIURL.
func (s *Server) URL() string { return s.srv.URL }

// Add stores a comment as if someone had posted it.
func (s *Server) Add(issue int, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.comments = append(s.comments, Comment{ID: s.nextID, Issue: issue, Body: body})
	return s.nextID
}

// Comments returns the comments on issue in order.
func (s *Server) Comments(issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			out = append(out, c)
		}
	}
	return out
}

// Calls lists "METHOD path" of every call received.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *Server) fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		s.fail(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	if r.Header.Get("Accept") != "application/vnd.github+json" {
		s.fail(w, http.StatusUnsupportedMediaType, "Unsupported Accept header")
		return
	}
	if m := listRE.FindStringSubmatch(r.URL.Path); m != nil {
		if m[1] != s.repo {
			s.fail(w, http.StatusNotFound, "Not Found")
			return
		}
		issue, _ := strconv.Atoi(m[2])
		switch r.Method {
		case http.MethodGet:
			s.list(w, r, issue)
		case http.MethodPost:
			var in struct {
				Body string `json:"body"`
			}
			if json.NewDecoder(r.Body).Decode(&in) != nil || in.Body == "" {
				s.fail(w, http.StatusUnprocessableEntity, "Validation Failed")
				return
			}
			id := s.Add(issue, in.Body)
			s.write(w, http.StatusCreated, id, in.Body)
		default:
			s.fail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		}
		return
	}
	if m := patchRE.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPatch {
		id, _ := strconv.ParseInt(m[2], 10, 64)
		var in struct {
			Body string `json:"body"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Body == "" {
			s.fail(w, http.StatusUnprocessableEntity, "Validation Failed")
			return
		}
		s.mu.Lock()
		found := false
		for i := range s.comments {
			if s.comments[i].ID == id {
				s.comments[i].Body = in.Body
				found = true
			}
		}
		s.mu.Unlock()
		if !found || m[1] != s.repo {
			s.fail(w, http.StatusNotFound, "Not Found")
			return
		}
		s.write(w, http.StatusOK, id, in.Body)
		return
	}
	s.fail(w, http.StatusNotFound, "Not Found")
}

func (s *Server) write(w http.ResponseWriter, code int, id int64, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"id": id, "body": body, "html_url": fmt.Sprintf("https://github.com/%s/pull/0#issuecomment-%d", s.repo, id)})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, issue int) {
	all := s.Comments(issue)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	size := s.PageSize
	lo := min((page-1)*size, len(all))
	hi := min(lo+size, len(all))
	if hi < len(all) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?per_page=%d&page=%d>; rel="next", <%s%s?page=%d>; rel="last"`,
			s.srv.URL, r.URL.Path, size, page+1, s.srv.URL, r.URL.Path, (len(all)+size-1)/size))
	}
	out := []map[string]any{}
	for _, c := range all[lo:hi] {
		out = append(out, map[string]any{"id": c.ID, "body": c.Body, "html_url": "x"})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
