package xraytracer

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"

	"github.com/telefonagent/gateway/shared/platform"
)

var _ platform.Tracer = Tracer{}
var _ platform.HTTPInstrumenter = Tracer{}

// A local UDP socket plays the X-Ray daemon: closed segments arrive there
// as JSON, so the test sees exactly what would be sent to AWS.
func TestSubsegmentsReachTheDaemon(t *testing.T) {
	t.Setenv("AWS_XRAY_SDK_DISABLED", "false")
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
	daemon, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	if err := xray.Configure(xray.Config{DaemonAddr: daemon.LocalAddr().String()}); err != nil {
		t.Fatal(err)
	}

	calcom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer calcom.Close()

	tr := New()
	ctx, seg := xray.BeginSegment(context.Background(), "book-appointment")
	ctx2, end := tr.Start(ctx, "calcom.CreateBooking")
	client := platform.InstrumentHTTPClient(tr, &http.Client{Timeout: 2 * time.Second})
	req, _ := http.NewRequestWithContext(ctx2, http.MethodPost, calcom.URL+"/v2/bookings", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	end(errors.New("slot taken"))
	_, end2 := tr.Start(ctx, "mysql.SaveAppointment")
	end2(nil)
	seg.Close(nil)

	daemon.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 64<<10)
	n, _, err := daemon.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no segment reached the daemon: %v", err)
	}
	_, doc, ok := strings.Cut(string(buf[:n]), "\n") // header line, then the segment
	if !ok {
		t.Fatalf("unexpected datagram: %s", buf[:n])
	}
	var got struct {
		Name        string `json:"name"`
		Subsegments []struct {
			Name        string `json:"name"`
			Error       bool   `json:"error"`
			Fault       bool   `json:"fault"`
			Subsegments []struct {
				Name string `json:"name"`
			} `json:"subsegments"`
		} `json:"subsegments"`
	}
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	if got.Name != "book-appointment" || len(got.Subsegments) != 2 {
		t.Fatalf("segment: %s", doc)
	}
	first := got.Subsegments[0]
	if first.Name != "calcom.CreateBooking" || !(first.Fault || first.Error) {
		t.Fatalf("error not recorded on the subsegment: %s", doc)
	}
	if len(first.Subsegments) == 0 || !strings.HasPrefix(first.Subsegments[0].Name, "127.0.0.1") {
		t.Fatalf("outgoing HTTP call not traced under the subsegment: %s", doc)
	}
	if got.Subsegments[1].Name != "mysql.SaveAppointment" || got.Subsegments[1].Fault || got.Subsegments[1].Error {
		t.Fatalf("second subsegment: %s", doc)
	}
}

// Outside a segment (tests, the dev gateway) the tracer is a no-op.
func TestNoSegmentIsANoOp(t *testing.T) {
	t.Setenv("AWS_XRAY_SDK_DISABLED", "false")
	t.Setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
	ctx, end := New().Start(context.Background(), "anything")
	if ctx == nil || end == nil {
		t.Fatal("nil context or end func")
	}
	end(errors.New("ignored"))
}
