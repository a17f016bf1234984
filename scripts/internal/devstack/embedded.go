package devstack

import (
	"fmt"
	"net"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"
)

// embeddedMySQL serves an in-memory MySQL-compatible database on a free
// loopback port. Only the dev tools import this package: the engine is
// large and pulls old dependencies, so no Lambda may link it.
type embeddedMySQL struct {
	srv  *server.Server
	addr string
}

func startEmbeddedMySQL(dbName string) (*embeddedMySQL, error) {
	// The engine logs every connection through logrus at INFO; only its
	// errors matter to someone running `make dev`.
	logrus.SetLevel(logrus.ErrorLevel)
	db := memory.NewDatabase(dbName)
	db.EnablePrimaryKeyIndexes()
	pro := memory.NewDBProvider(db)
	engine := sqle.NewDefault(pro)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close() // the server binds the address itself
	srv, err := server.NewServer(server.Config{Protocol: "tcp", Address: addr}, engine, gmssql.NewContext, memory.NewSessionBuilder(pro), nil)
	if err != nil {
		return nil, fmt.Errorf("embedded mysql: %w", err)
	}
	go func() { _ = srv.Start() }()
	return &embeddedMySQL{srv: srv, addr: addr}, nil
}

func (e *embeddedMySQL) DSN(dbName string) string {
	return "root@tcp(" + e.addr + ")/" + dbName
}

func (e *embeddedMySQL) Close() error { return e.srv.Close() }
