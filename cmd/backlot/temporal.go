package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/temporalsrv"
)

func newTemporalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "temporal", Short: "Run the Temporal server backlot dev embeds, on its own"}
	var db, addr, level string
	serve := &cobra.Command{
		Use:   "serve [--db FILE] [--addr HOST:PORT]",
		Short: "Run a one-process Temporal server on a SQLite file, for backlot serve's worker and api roles",
		Long: `Run the one-process Temporal server that backlot dev runs inside, on a SQLite
file: for trying backlot serve --roles worker on one machine, or CI, without a
Temporal cluster. Production runs a Temporal cluster (see deploy/). The stock
temporal CLI reaches it at --addr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
				return err
			}
			s, err := temporalsrv.Start(ctx, temporalsrv.Config{DBPath: db, Addr: addr, LogLevel: level})
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "temporal serving on %s (namespace %s, database %s)\n", s.Addr(), s.Namespace(), db)
			<-ctx.Done()
			return s.Stop()
		},
	}
	serve.Flags().StringVar(&db, "db", ".data/temporal.db", "the SQLite database; created when missing")
	serve.Flags().StringVar(&addr, "addr", temporalsrv.DefaultAddr, "the frontend's address (port 0 picks a free one)")
	serve.Flags().StringVar(&level, "log-level", "error", "the server log's level: debug, info, warn or error")
	cmd.AddCommand(serve)
	return cmd
}
