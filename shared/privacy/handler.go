package privacy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/telefonagent/gateway/shared/apigw"
	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/platform"
)

// Routes of the privacy function (catalog "privacy"):
//
//	GET  /admin/tenants/{tenant}/customers/{id}/export
//	POST /admin/tenants/{tenant}/customers/{id}/erase    body {"reason": "..."} (required, ≤255)
//
// {id} is the customer's numeric id. To address a person by phone number
// instead, put any non-numeric placeholder in {id} (by convention
// "by-phone") and the number in the query: …/customers/by-phone/export?phone=%2B4930123456
// (encode "+" as %2B; a literal "+" that arrived decoded as a space is
// accepted too). A numeric id together with ?phone= is refused as
// ambiguous. By phone, export/erase cover the customer with that number
// or, if it never became a customer, the calls from it.
//
// Answers: export 200 with the mysql.CustomerExport JSON; erase 200 with
// the ErasureResult JSON, or 202 when the personal data is erased but
// some future Cal.com bookings could not be cancelled yet
// (pending_cancellations; POST erase again to retry). 400 bad id, phone or
// body; 401 missing or wrong credentials; 404 unknown customer/number.
//
// Authorisation:
//   - stage dev (local dev gateway): "Authorization: Bearer <ADMIN_TOKEN>",
//     compared in constant time; an empty configured token refuses every
//     request. The principal is the X-Admin-Principal header if sent,
//     otherwise "dev-admin".
//   - other stages: API Gateway's IAM authorisation already ran. apigw.Request
//     does not carry requestContext.identity, so the principal is read from
//     the X-Admin-Principal header, which WithCallerIdentity fills from the
//     IAM caller ARN and strips when a client sent it. Without a principal
//     the answer is 401.
//
// Personal data never reaches the log line: only tenant, customer id and
// counts are added to it.

// PrincipalHeader carries the admin principal to the handler.
const PrincipalHeader = "X-Admin-Principal"

// DevPrincipal is the principal of dev requests that name none.
const DevPrincipal = "dev-admin"

// Handler returns the privacy function's HTTP handler. stage is the
// deployment stage (platform.StageDev enables the admin token); adminToken
// is the expected dev token (ignored in other stages).
func Handler(svc *Service, stage, adminToken string) apigw.Handler {
	h := &handler{svc: svc, dev: stage == platform.StageDev}
	if h.dev && adminToken != "" {
		sum := sha256.Sum256([]byte(adminToken))
		h.tokenSum = sum[:]
	}
	return h.serve
}

type handler struct {
	svc      *Service
	dev      bool
	tokenSum []byte // sha256 of the dev admin token; nil = refuse all in dev
}

func (h *handler) serve(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	const op = "privacy.Handler"
	principal, err := h.principal(r)
	if err != nil {
		return nil, err
	}
	actor := AdminActor(principal)
	tenant := r.PathParams["tenant"]
	if tenant == "" || len(tenant) > 64 {
		return nil, booking.Errorf(booking.KindInvalid, op, "tenant is missing or too long")
	}
	id, phone, err := subjectOf(r)
	if err != nil {
		return nil, err
	}
	attrs := []slog.Attr{slog.String("tenant", tenant), slog.Bool("by_phone", phone != "")}
	if id != 0 {
		attrs = append(attrs, slog.Int64("customer_id", id))
	}
	apigw.AddLogAttrs(ctx, attrs...)

	path := r.Resource
	if path == "" {
		path = r.Path
	}
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/export"):
		var exp any
		if phone != "" {
			exp, err = h.svc.ExportByPhone(ctx, tenant, phone, actor)
		} else {
			exp, err = h.svc.ExportCustomer(ctx, tenant, id, actor)
		}
		if err != nil {
			return nil, err
		}
		resp := apigw.JSON(http.StatusOK, exp)
		resp.Headers["Cache-Control"] = "no-store"
		return resp, nil

	case r.Method == http.MethodPost && strings.HasSuffix(path, "/erase"):
		var body struct {
			Reason string `json:"reason"`
		}
		if err := apigw.DecodeStrict(r.Body, &body); err != nil {
			return nil, err
		}
		body.Reason = strings.TrimSpace(body.Reason)
		if body.Reason == "" || len([]rune(body.Reason)) > 255 {
			return nil, booking.Errorf(booking.KindInvalid, op, "reason is required (at most 255 characters)")
		}
		var res *ErasureResult
		if phone != "" {
			res, err = h.svc.EraseCaller(ctx, tenant, phone, actor, body.Reason)
		} else {
			res, err = h.svc.EraseCustomer(ctx, tenant, id, actor, body.Reason)
		}
		if err != nil {
			return nil, err
		}
		apigw.AddLogAttrs(ctx, slog.Bool("already_erased", res.AlreadyErased), slog.Int("calls", int(res.Calls)),
			slog.Int("cancelled", len(res.Cancelled)), slog.Int("pending", len(res.Pending)))
		status := http.StatusOK
		if !res.Complete() {
			status = http.StatusAccepted
		}
		return apigw.JSON(status, res), nil
	}
	return nil, booking.Errorf(booking.KindNotFound, op, "no such route")
}

// subjectOf reads the customer id or the phone number.
func subjectOf(r *apigw.Request) (int64, string, error) {
	const op = "privacy.Handler"
	raw := r.PathParams["id"]
	phone, hasPhone := r.Query["phone"]
	if hasPhone {
		if strings.HasPrefix(phone, " ") { // a "+" decoded as a space
			phone = "+" + strings.TrimSpace(phone)
		}
		phone = strings.TrimSpace(phone)
		if phone == "" || len(phone) > 32 {
			return 0, "", booking.Errorf(booking.KindInvalid, op, "phone is empty or too long")
		}
		if _, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return 0, "", booking.Errorf(booking.KindInvalid, op, "give either a numeric customer id or ?phone=, not both")
		}
		return 0, phone, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, "", booking.Errorf(booking.KindInvalid, op, "customer id must be a positive integer (or use ?phone=)")
	}
	return id, "", nil
}

// principal authenticates the request and names who makes it.
func (h *handler) principal(r *apigw.Request) (string, error) {
	const op = "privacy.Handler"
	p := strings.TrimSpace(r.Header(PrincipalHeader))
	if h.dev {
		if h.tokenSum == nil {
			return "", booking.Errorf(booking.KindUnauthorized, op, "admin token not configured")
		}
		auth := r.Header("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !ok || subtle.ConstantTimeCompare(got[:], h.tokenSum) != 1 {
			return "", booking.Errorf(booking.KindUnauthorized, op, "missing or wrong admin token")
		}
		if p == "" {
			p = DevPrincipal
		}
	}
	if p == "" {
		return "", booking.Errorf(booking.KindUnauthorized, op, "no caller identity")
	}
	if !validPrincipal(p) {
		return "", booking.Errorf(booking.KindUnauthorized, op, "caller identity is not usable")
	}
	return p, nil
}

// validPrincipal: printable ASCII without spaces, short enough for the
// audit actor column ("admin:" + principal ≤ 128). IAM ARNs qualify.
func validPrincipal(p string) bool {
	if len(p) > 128-len("admin:") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] > '~' {
			return false
		}
	}
	return true
}

// WithCallerIdentity makes the IAM caller the principal on AWS: it removes
// any X-Admin-Principal header the client sent and sets it from the
// event's requestContext.identity (userArn, else caller). In stage dev it
// changes nothing (the dev gateway or the developer sets the header).
//
//	lambda.Start(privacy.WithCallerIdentity(cfg.Stage, apigw.Wrap("privacy", privacy.Handler(svc, cfg.Stage, cfg.AdminToken), opts)))
func WithCallerIdentity(stage string, next apigw.LambdaHandler) apigw.LambdaHandler {
	if stage == platform.StageDev {
		return next
	}
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		headers := make(map[string]string, len(ev.Headers)+1)
		for k, v := range ev.Headers {
			if !strings.EqualFold(k, PrincipalHeader) {
				headers[k] = v
			}
		}
		multi := make(map[string][]string, len(ev.MultiValueHeaders))
		for k, v := range ev.MultiValueHeaders {
			if !strings.EqualFold(k, PrincipalHeader) {
				multi[k] = v
			}
		}
		id := ev.RequestContext.Identity.UserArn
		if id == "" {
			id = ev.RequestContext.Identity.Caller
		}
		if id != "" {
			headers[PrincipalHeader] = id
		}
		ev.Headers, ev.MultiValueHeaders = headers, multi
		return next(ctx, ev)
	}
}
