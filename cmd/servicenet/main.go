// Command servicenet is the one ServiceNet binary:
//
//	servicenet serve            HTTP API, River workers and the job dashboard
//	servicenet migrate          apply database migrations (ours and River's)
//	servicenet openapi          write openapi/openapi.yaml and openapi-3.0.yaml
//	servicenet seed             create the demo brand if absent; write .data/demo.env
//	servicenet tenants create   create a tenant and print its first admin key
//
// Configuration comes from the environment; see internal/config.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // tenant time zones must resolve on minimal images

	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/openapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "servicenet:", err)
		os.Exit(1)
	}
}

const usage = `usage: servicenet <command>

commands:
  serve [-mode all|api|worker]   serve the API and run jobs
  migrate                        apply database migrations
  openapi [-dir openapi]         write the OpenAPI documents
  seed [-env-file .data/demo.env] create the demo brand if absent
  tenants create -name N -slug S [-time-zone Z] [-currency C] [-test]
  webhooks listen [-addr 127.0.0.1:4242] [-secret whsec_...]
                                 print verified webhook deliveries (local development)
  version                        print the version`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := logging.New(stderr, cfg.LogLevel)
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.StringVar(&cfg.Mode, "mode", cfg.Mode, "all, api or worker")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		cfg.TuneRuntime(getenv)
		return serve(ctx, cfg, log, stdout, nil)
	case "migrate":
		if cfg.DatabaseURL == "" {
			return errors.New("DATABASE_URL is not set")
		}
		owner, err := pg.Connect(ctx, cfg.DatabaseURL, pg.PoolOptions{Name: "servicenet-migrate", MaxConns: 2})
		if err != nil {
			return err
		}
		defer owner.Close()
		if err := pg.Migrate(ctx, owner, cfg.AppDBPassword); err != nil {
			return err
		}
		st, err := pg.CheckSchema(ctx, owner)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "migrated: schema version %d, river version %d\n", st.Version, st.RiverVersion)
		return nil
	case "openapi":
		fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
		dir := fs.String("dir", "openapi", "directory to write into")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if err := openapi.Write(*dir); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %v to %s\n", openapi.Files, *dir)
		return nil
	case "seed":
		fs := flag.NewFlagSet("seed", flag.ContinueOnError)
		envFile := fs.String("env-file", ".data/demo.env", "where to write the demo credentials")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return seed(ctx, cfg, stdout, *envFile)
	case "tenants":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New("usage: servicenet tenants create -name N -slug S")
		}
		return createTenant(ctx, cfg, rest[1:], stdout)
	case "webhooks":
		if len(rest) == 0 || rest[0] != "listen" {
			return errors.New("usage: servicenet webhooks listen [-addr 127.0.0.1:4242] [-secret whsec_...]")
		}
		return listenWebhooks(ctx, rest[1:], getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "servicenet", openapi.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
