package sla

import "time"

// Decision is what intake did with a message written in a customer
// channel; every message is stored with its decision.
type Decision string

// Decisions.
const (
	DecisionOpened        Decision = "opened"         // a customer's fault report opened an incident
	DecisionTriage        Decision = "triage"         // opened an incident that awaits an engineer's decision
	DecisionAttached      Decision = "attached"       // a customer's message joined an incident in progress
	DecisionReply         Decision = "reply"          // a staff member's message in an incident's conversation
	DecisionFirstResponse Decision = "first_response" // a staff reply that met the reply clock
	DecisionChatter       Decision = "chatter"        // a customer's message that is not a fault, with no incident
	DecisionStaff         Decision = "staff"          // a staff member's message with no incident
)

// Conversation is an incident still being worked on, with what the
// customer said about it, for deciding whether a new message continues it.
// It carries only what that decision reads, not the whole incident.
type Conversation struct {
	IncidentID int64
	// AckedAt is when an engineer acknowledged the incident (zero: it still
	// awaits a reply).
	AckedAt time.Time
	// LastCustomerAt is when the customer last wrote about it (the report,
	// or a message that joined it).
	LastCustomerAt time.Time
	// Said is the report and the customer's later messages, oldest first.
	Said []string
}
