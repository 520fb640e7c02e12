// Package results remembers runs: every scorecard a run writes is recorded
// in a store (a SQLite file by default, or a shared PostgreSQL database),
// and the store answers what happened over time — runs by label, section,
// backend or time, and per scenario its last verdicts, TTD and TTR.
//
// Both kinds of store hold the same schema, migrated forward with goose
// from the SQL files in migrations/: a store from an older kmschaos is
// migrated, never dropped; one from a newer kmschaos is refused.
package results

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" driver, pure Go: builds stay CGO-free
)

//go:embed migrations/*.sql
var migrations embed.FS

// Unreadable is a store kmschaos cannot use: a newer schema, a file that
// is not a store, a server that does not answer. Its message is one line
// naming the store.
type Unreadable struct {
	Where string // the store, without a password
	Why   string
}

func (e *Unreadable) Error() string { return fmt.Sprintf("results store %s: %s", e.Where, e.Why) }

// Store is an open results store.
type Store struct {
	db    *sql.DB
	pg    bool
	where string
}

// DefaultPath is the store used when neither --db nor KMSCHAOS_DB names
// one: $XDG_DATA_HOME/kmschaos/results.db, else
// ~/.local/share/kmschaos/results.db — outside the repository, so
// `make clean` (which removes reports/) keeps the history.
func DefaultPath() string {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "kmschaos", "results.db")
}

// Where is the store a command uses: the flag's value, else KMSCHAOS_DB,
// else DefaultPath.
func Where(flag string) string {
	switch {
	case flag != "":
		return flag
	case os.Getenv("KMSCHAOS_DB") != "":
		return os.Getenv("KMSCHAOS_DB")
	}
	return DefaultPath()
}

func isPostgres(where string) bool {
	return strings.HasPrefix(where, "postgres://") || strings.HasPrefix(where, "postgresql://")
}

// Open opens the store at where (a file path, or a postgres:// URL),
// creating a file store and its directory if missing, and migrates it to
// this kmschaos's schema. Every failure is an *Unreadable.
func Open(ctx context.Context, where string) (*Store, error) {
	s, err := connect(where)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.db.Close()
		return nil, &Unreadable{s.where, firstLine(err.Error())}
	}
	return s, nil
}

// connect opens the database without touching its schema.
func connect(where string) (*Store, error) {
	s := &Store{pg: isPostgres(where), where: where}
	var err error
	if s.pg {
		s.where = redact(where)
		s.db, err = sql.Open("pgx", where)
	} else {
		if mkErr := os.MkdirAll(filepath.Dir(where), 0o755); mkErr != nil {
			return nil, &Unreadable{where, firstLine(mkErr.Error())}
		}
		// WAL and a busy timeout: several processes of the suite, or a
		// `history` while a run records, share the file.
		s.db, err = sql.Open("sqlite", where+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	}
	if err != nil {
		return nil, &Unreadable{s.where, firstLine(err.Error())}
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// String names the store (a URL without its password).
func (s *Store) String() string { return s.where }

// provider is goose over the embedded migrations, up to version max (0:
// all of them; tests build older stores with a lower one).
func (s *Store) provider(max int64) (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if s.pg {
		dialect = goose.DialectPostgres
	}
	var opts []goose.ProviderOption
	if max > 0 {
		var newer []int64
		for v := max + 1; v <= SchemaVersion; v++ {
			newer = append(newer, v)
		}
		opts = append(opts, goose.WithExcludeVersions(newer))
	}
	return goose.NewProvider(dialect, s.db, mustSub(migrations, "migrations"), opts...)
}

// SchemaVersion is the schema this kmschaos writes: the last migration.
const SchemaVersion = 5

func (s *Store) migrate(ctx context.Context) error {
	p, err := s.provider(0)
	if err != nil {
		return err
	}
	have, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if have > SchemaVersion {
		return fmt.Errorf("schema version %d is newer than this kmschaos knows (%d): use a newer kmschaos, or another store (--db)", have, SchemaVersion)
	}
	_, err = p.Up(ctx)
	return err
}

// Version is the schema version the store is at.
func (s *Store) Version(ctx context.Context) (int64, error) {
	p, err := s.provider(0)
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

func mustSub(f embed.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	return sub
}

// q rewrites ? placeholders to PostgreSQL's $1, $2 …
func (s *Store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// redact drops the password of a URL for messages.
func redact(where string) string {
	at := strings.LastIndex(where, "@")
	scheme := strings.Index(where, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return where
	}
	user := where[scheme+3 : at]
	if i := strings.Index(user, ":"); i >= 0 {
		user = user[:i] + ":***"
	}
	return where[:scheme+3] + user + where[at:]
}

// ErrUnknown is what a query for a run, label or scenario the store does
// not hold wraps; its message names the closest the store does hold.
var ErrUnknown = errors.New("unknown")

func nanos(t time.Time) int64 { return t.UnixNano() }
