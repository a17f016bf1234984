package mysql

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/telefonagent/gateway/shared/testenv"
)

// OpenIAM asks for a token per new connection and uses it as the password.
// The test server does not speak TLS, so the handshake must fail — after
// the token was requested for the right endpoint and user, and without the
// token appearing in the error.
func TestOpenIAMRequestsATokenPerConnection(t *testing.T) {
	dsn := strings.Replace(testenv.MySQLServerDSN(), "root@", "gateway_app@", 1)
	var asked atomic.Int32
	var gotUser, gotAddr string
	_, err := OpenIAM(context.Background(), dsn, Options{}, func(_ context.Context, endpoint, user string) (string, error) {
		asked.Add(1)
		gotUser, gotAddr = user, endpoint
		return "iam-token-secret", nil
	})
	if err == nil {
		t.Fatal("a plain-text test server must refuse the TLS handshake OpenIAM requires")
	}
	if asked.Load() == 0 || gotUser != "gateway_app" || !strings.Contains(gotAddr, ":") {
		t.Fatalf("token asked %d times for %q@%q", asked.Load(), gotUser, gotAddr)
	}
	if strings.Contains(err.Error(), "iam-token-secret") {
		t.Fatal("the token leaked into the error")
	}
}
