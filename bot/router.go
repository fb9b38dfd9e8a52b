package bot

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/slakeeper/slakeeper/bot/chat"
	"github.com/slakeeper/slakeeper/commands"
	"github.com/slakeeper/slakeeper/sla"
)

// Router takes every inbound message, works out who wrote it where, and
// hands it to the service: commands to Service.Command, plain text in
// customer channels to Service.Intake; the rest is ignored.
type Router struct {
	Svc   *Service
	Clock chat.Clock
	Log   *slog.Logger
}

// Handle routes one inbound message and returns the direct replies to show
// (a command's answer). Messages the change causes go through the outbox.
// A message whose EventID was seen before is dropped. Its text is
// sanitised first (chat.SanitizeInbound), so that nothing downstream sees
// a NUL or invalid UTF-8.
func (r *Router) Handle(ctx context.Context, in chat.Inbound) ([]chat.Outbound, error) {
	in, changed := chat.SanitizeInbound(in)
	if changed {
		r.sanitized(ctx, in)
	}
	now := r.Clock.Now()
	ch, chKnown := r.Svc.Dir.Channel(in.Platform, in.ChatID)
	person, known := r.Svc.Dir.ByIdentity(in.Platform, in.UserID)
	if !known && chKnown && ch.Kind == sla.ChannelCustomer {
		// An unknown user in a customer channel is that customer, never staff.
		person = sla.Person{Name: in.UserName, Role: sla.RoleCustomer, CustomerID: ch.CustomerID}
		if person.Name == "" {
			person.Name = in.UserID
		}
	}
	from := Author{Person: person, Known: known, Channel: ch, InChannel: chKnown}

	// Latencies are measured on the wall clock: they are the process's
	// speed, not a domain time.
	// In a customer's channel only our own commands are commands: a report
	// may begin with a path ("/opt/app 目录下的服务全部宕机了").
	customerChannel := chKnown && ch.Kind == sla.ChannelCustomer
	if commands.IsCommand(in.Text) && (!customerChannel || commands.IsKnownCommand(in.Text)) {
		start := time.Now()
		out, err := r.Svc.Command(ctx, in, from, now)
		if m := r.Svc.Metrics; m != nil {
			m.Commands.Observe(time.Since(start), in.Platform)
		}
		return out, err
	}
	if !customerChannel || strings.TrimSpace(in.Text) == "" {
		return nil, nil
	}
	start := time.Now()
	res, err := r.Svc.Intake(ctx, in, from, now)
	if m := r.Svc.Metrics; m != nil {
		m.Intake.Observe(time.Since(start), in.Platform)
	}
	if err != nil || res.Decision == "" {
		return nil, err
	}
	log := r.Log.With("customer", ch.CustomerID, "decision", string(res.Decision))
	if res.Incident.ID != 0 {
		log = log.With("incident", res.Incident.ID)
	}
	if res.Reason != "" {
		log = log.With("reason", res.Reason)
	}
	switch {
	case res.Folded:
		log.WarnContext(ctx, "fault report folded into the customer's latest incident: past the intake limit")
	case res.Opened:
		log.InfoContext(ctx, "incident opened")
	case res.Event != "":
		log.InfoContext(ctx, "message joined an incident")
	default:
		log.DebugContext(ctx, "message kept, no incident")
	}
	return nil, nil
}
