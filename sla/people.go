package sla

import (
	"strings"
	"time"
)

// Lang is the language a person reads. Chinese is the default for the seed's
// customers; English is equally supported.
type Lang string

// Supported languages.
const (
	LangZH Lang = "zh"
	LangEN Lang = "en"
	// LangBoth is a channel's setting: every post in Chinese and English.
	LangBoth Lang = "both"
)

// Langs are the languages a setting stands for, Chinese first.
func (l Lang) Langs() []Lang {
	if l == LangBoth {
		return []Lang{LangZH, LangEN}
	}
	return []Lang{l}
}

// ParseLang accepts "zh", "en" and common spellings of them ("zh-CN",
// "English", "中文"); ok is false for anything else.
func ParseLang(s string) (Lang, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "zh", "zh-cn", "zh_cn", "zh-hans", "cn", "chinese", "中文":
		return LangZH, true
	case "en", "en-us", "en_us", "en-gb", "english":
		return LangEN, true
	}
	return "", false
}

// Role is what a person may do. Roles are ordered: each one may do what the
// ones before it may, except that a customer is bound to one customer.
type Role string

// Roles, from least to most privileged.
const (
	RoleCustomer Role = "customer"
	RoleEngineer Role = "engineer"
	RoleLead     Role = "lead"
	RoleManager  Role = "manager"
	RoleAdmin    Role = "admin"
)

var roleRank = map[Role]int{RoleCustomer: 1, RoleEngineer: 2, RoleLead: 3, RoleManager: 4, RoleAdmin: 5}

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool { return roleRank[r] > 0 }

// AtLeast reports whether r is at least as privileged as min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && roleRank[r] >= roleRank[min] }

// IsStaff reports whether r belongs to the vendor (engineer and up).
func (r Role) IsStaff() bool { return r.AtLeast(RoleEngineer) }

// Person is someone the bot knows: a customer's employee or the vendor's staff.
// ID is empty for an unknown user in a customer channel, who is treated as a
// customer of that channel and nothing more.
type Person struct {
	ID         string
	Name       string
	Role       Role
	Lang       Lang
	CustomerID string // set for role customer only
}

// Known reports whether the person comes from the directory.
func (p Person) Known() bool { return p.ID != "" }

// CanSee reports whether p may see incidents of the given customer: staff see
// all, a customer only their own.
func (p Person) CanSee(customerID string) bool {
	if p.Role.IsStaff() {
		return true
	}
	return p.Role == RoleCustomer && p.CustomerID != "" && p.CustomerID == customerID
}

// Customer is an organisation the vendor serves under a contract.
type Customer struct {
	ID       string
	Name     string
	Lang     Lang
	Contract Contract
	// Engineer is the account's engineer (a person id): reminded of the
	// revisits and of missing inspection and health check reports. Empty
	// means whoever is on call.
	Engineer string
}

// Contract is the customer's maintenance agreement: free maintenance runs
// from the acceptance date to the warranty end (one year by default, C1), and
// the policy may override the plan's default clocks.
type Contract struct {
	AcceptedOn  time.Time // zero if not yet accepted
	WarrantyEnd time.Time // zero means AcceptedOn + one year
	Policy      PolicyOverride
}

// WarrantyEnds returns the end of free maintenance: the configured end, or one
// year after acceptance. It is zero when the contract is not yet accepted.
func (c Contract) WarrantyEnds() time.Time {
	if !c.WarrantyEnd.IsZero() {
		return c.WarrantyEnd
	}
	if c.AcceptedOn.IsZero() {
		return time.Time{}
	}
	return c.AcceptedOn.AddDate(1, 0, 0)
}

// InWarranty reports whether now falls in the free maintenance period.
func (c Contract) InWarranty(now time.Time) bool {
	if c.AcceptedOn.IsZero() || now.Before(c.AcceptedOn) {
		return false
	}
	return now.Before(c.WarrantyEnds())
}
