package commands

import (
	"context"
	"strings"

	"github.com/slakeeper/slakeeper/sla"
	"github.com/slakeeper/slakeeper/sla/i18n"
)

// triageDecision reads the decision of /triage: core, noncore or notfault,
// in English or Chinese.
func triageDecision(word string) (sev sla.Severity, notFault, ok bool) {
	switch strings.ToLower(word) {
	case "notfault", "not-a-fault", "none", "no", "不是故障", "非故障", "误报", "不是":
		return "", true, true
	}
	sev, err := sla.ParseSeverity(word)
	return sev, false, err == nil
}

// triage decides an incident awaiting triage: "/triage 42 core",
// "/triage 42 notfault [why]". Deciding core or noncore also corrects one
// closed as not a fault by mistake.
func (h Handler) triage(ctx context.Context, r Request, cmd Command, change func(ChangeFunc) (sla.Incident, error)) (string, error) {
	word, rest := cut(cmd.Text)
	sev, notFault, ok := triageDecision(word)
	if !ok {
		return "", sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "triage"}, "usage")
	}
	a := actorOf(r.Actor)
	if notFault {
		reason := rest
		if reason == "" {
			reason = i18n.T(r.Lang, "triage.notfault_reason", nil)
		}
		inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) {
			if i.Status != sla.StatusTriage {
				// Closing an incident in progress as not a fault is /notfault,
				// for leads.
				return sla.Event{}, sla.Errorf(sla.ECONFLICT, "err.triage_state", map[string]any{"id": i.ID}, "not awaiting triage")
			}
			return i.DismissNotFault(a, reason, r.Now)
		})
		if err != nil {
			return "", err
		}
		return i18n.T(r.Lang, "reply.notfault", map[string]any{"id": inc.ID}), nil
	}
	if rest != "" {
		return "", sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "triage"}, "usage")
	}
	inc, err := change(func(i *sla.Incident, p sla.Policy) (sla.Event, error) { return i.Decide(a, sev, p, r.Now) })
	if err != nil {
		return "", err
	}
	return i18n.T(r.Lang, "reply.triaged", map[string]any{"id": inc.ID, "severity": i18n.Severity(r.Lang, inc.Severity)}) +
		"\n" + h.clocks(r.Lang, inc, r.Now), nil
}

// notFault closes an incident as not a fault: "/notfault 42 the customer
// was testing". Leads and up; the reason is required.
func (h Handler) notFault(r Request, cmd Command, change func(ChangeFunc) (sla.Incident, error)) (string, error) {
	if !r.Actor.Role.AtLeast(sla.RoleLead) {
		return "", sla.Errorf(sla.EFORBIDDEN, "err.forbidden_role", map[string]any{"command": "notfault",
			"role": i18n.T(r.Lang, "role.lead", nil)}, "/notfault needs the lead role or above")
	}
	inc, err := change(func(i *sla.Incident, _ sla.Policy) (sla.Event, error) {
		return i.DismissNotFault(actorOf(r.Actor), cmd.Text, r.Now)
	})
	if err != nil {
		return "", err
	}
	return i18n.T(r.Lang, "reply.notfault", map[string]any{"id": inc.ID}), nil
}

// merge closes an incident as a duplicate of another of the same
// customer: "/merge 43 into 42" (also "/merge 43 42", "/merge 43 到 42").
func (h Handler) merge(ctx context.Context, r Request, cmd Command) (string, error) {
	word, rest := cut(cmd.Text)
	switch strings.ToLower(word) {
	case "into", "to", "到", "并入", "合并到", "->", "→":
		word, rest = cut(rest)
	}
	into, ok, err := parseID(word)
	if err != nil {
		return "", err
	}
	if !ok || rest != "" {
		return "", sla.Errorf(sla.EINVALID, "err.usage", map[string]any{"command": "merge"}, "usage")
	}
	dup, target, err := h.Svc.Merge(ctx, MergeRequest{Duplicate: cmd.ID, Into: into, Actor: r.Actor, Now: r.Now,
		Visible: func(inc sla.Incident) bool { return visible(r, inc) }})
	if err != nil {
		return "", err
	}
	return i18n.T(r.Lang, "reply.merged", map[string]any{"id": dup.ID, "into": target.ID}), nil
}
