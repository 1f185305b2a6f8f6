package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/servicenet/servicenet/tenants/webhooks"
)

// listenWebhooks runs `servicenet webhooks listen`: a local receiver that
// prints every delivery it gets with its signature verified, until ctx
// ends. Register its URL as a test-mode endpoint on a server started with
// SERVICENET_ALLOW_LOOPBACK_WEBHOOKS_IN_TEST_MODE=true.
func listenWebhooks(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("webhooks listen", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4242", "address to listen on (loopback)")
	secret := fs.String("secret", getenv("SERVICENET_WEBHOOK_SECRET"), "the endpoint's signing secret (whsec_...); default $SERVICENET_WEBHOOK_SECRET")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var secrets []string
	if *secret != "" {
		secrets = append(secrets, *secret)
	}
	srv := &http.Server{Handler: webhooks.NewListener(stdout, secrets...), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "listening for webhook deliveries on http://%s/ (register it with a test key; Ctrl-C stops)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
