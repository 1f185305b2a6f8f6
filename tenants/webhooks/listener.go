package webhooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Listener is a local webhook receiver for development (`servicenet
// webhooks listen`): it verifies each delivery's Standard Webhooks
// signature with the endpoint's secret, answers 204 when it holds (400 when
// it does not, so ServiceNet retries and the delivery shows the failure),
// and prints one line per delivery to Out: time, verdict, event type, the
// webhook-id and the payload.
type Listener struct {
	Out io.Writer

	mu      sync.Mutex
	secrets []string
}

// NewListener returns a listener that prints to out and accepts signatures
// made with any of secrets (an endpoint's secret, and its previous one
// during a rotation).
func NewListener(out io.Writer, secrets ...string) *Listener {
	return &Listener{Out: out, secrets: secrets}
}

// SetSecrets replaces the secrets signatures are checked with.
func (l *Listener) SetSecrets(secrets ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.secrets = secrets
}

const maxListenBody = 1 << 20

func (l *Listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST deliveries here", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxListenBody))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	secrets := l.secrets
	l.mu.Unlock()
	verdict := "REJECTED (no secret: pass -secret)"
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			verdict = "REJECTED (malformed secret)"
			continue
		}
		if err := wh.Verify(body, r.Header); err != nil {
			verdict = "REJECTED (" + err.Error() + ")"
			continue
		}
		verdict = "verified"
		break
	}
	var p Payload
	_ = json.Unmarshal(body, &p)
	var compact bytes.Buffer
	if json.Compact(&compact, body) != nil {
		compact.Reset()
		compact.Write(body)
	}
	fmt.Fprintf(l.Out, "%s %s %s %s %s\n", time.Now().UTC().Format(time.RFC3339), verdict, p.Type, r.Header.Get("webhook-id"), compact.String())
	if verdict != "verified" {
		http.Error(w, verdict, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
