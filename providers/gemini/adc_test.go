package gemini_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/gemini"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// TestVertexADC runs the Application Default Credentials path offline: a
// service-account file whose token_uri is a local token server, found
// through GOOGLE_APPLICATION_CREDENTIALS on the first request. Every
// request to the fake must carry the token as a Bearer header.
func TestVertexADC(t *testing.T) {
	var tokenCalls atomic.Int64
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenCalls.Add(1)
		r.ParseForm()
		if r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.Form.Get("assertion") == "" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"ya29.fake","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(tokens.Close)

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	sa, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "my-proj", "private_key_id": "k1", "private_key": string(pemKey),
		"client_email": "bench@my-proj.iam.gserviceaccount.com", "client_id": "1", "token_uri": tokens.URL + "/token",
	})
	file := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(file, sa, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
	t.Setenv("GOOGLE_CLOUD_QUOTA_PROJECT", "billing-proj")

	srv := providertest.NewGeminiServer(t, providertest.WithGeminiAPIKey("ya29.fake"))
	c, err := gemini.New(context.Background(), gemini.Config{
		Name: "vertex", Backend: gemini.BackendVertexAI, Project: "my-proj", Location: "us-central1", BaseURL: srv.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := tokenCalls.Load(); n != 0 {
		t.Fatalf("New fetched %d tokens; credentials must be found on first use", n)
	}
	for range 2 {
		if _, err := c.Generate(context.Background(), req("q")); err != nil {
			t.Fatalf("Generate: %v", err)
		}
	}
	reqs := srv.Requests()
	for _, r := range reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer ya29.fake" {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("X-Goog-User-Project"); got != "billing-proj" {
			t.Errorf("X-Goog-User-Project = %q", got)
		}
	}
	if n := tokenCalls.Load(); n != 1 {
		t.Errorf("token server called %d times, want 1 (token cached)", n)
	}

	t.Run("AuthADC on a caller's client", func(t *testing.T) {
		c, err := gemini.New(context.Background(), gemini.Config{
			Backend: gemini.BackendVertexAI, Project: "my-proj", Location: "us-central1", BaseURL: srv.URL(),
			HTTPClient: srv.Client(), Auth: gemini.AuthADC,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Generate(context.Background(), req("q")); err != nil {
			t.Fatalf("Generate: %v", err)
		}
		reqs := srv.Requests()
		if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != "Bearer ya29.fake" {
			t.Errorf("Authorization = %q", got)
		}
	})

	t.Run("AuthAuto leaves a caller's client alone", func(t *testing.T) {
		c, err := gemini.New(context.Background(), gemini.Config{
			Backend: gemini.BackendVertexAI, Project: "my-proj", Location: "us-central1", BaseURL: srv.URL(), HTTPClient: srv.Client(),
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Generate(context.Background(), req("q"))
		if k := providers.KindOf(err); k != providers.KindAuth {
			t.Errorf("err = %v, want the fake's 401 as auth", err)
		}
	})

	t.Run("token refused is auth", func(t *testing.T) {
		refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
		}))
		t.Cleanup(refuse.Close)
		bad, _ := json.Marshal(map[string]string{
			"type": "service_account", "private_key": string(pemKey), "client_email": "x@y", "token_uri": refuse.URL,
		})
		file := filepath.Join(t.TempDir(), "bad.json")
		os.WriteFile(file, bad, 0o600)
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
		c, err := gemini.New(context.Background(), gemini.Config{
			Name: "vertex", Backend: gemini.BackendVertexAI, Project: "my-proj", Location: "us-central1", BaseURL: srv.URL(),
		})
		if err != nil {
			t.Fatal(err)
		}
		before := srv.Count()
		_, err = c.Generate(context.Background(), req("q"))
		if k := providers.KindOf(err); k != providers.KindAuth {
			t.Errorf("err = %v, want auth", err)
		}
		if srv.Count() != before {
			t.Errorf("a request reached the service without a token")
		}
	})
}
