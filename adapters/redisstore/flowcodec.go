package redisstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// Fields of the flow hash. The scripts read and write them by these names.
// Times are unix milliseconds (the precision of the caller's now argument);
// an absent optional field stands for the zero value. The device code itself
// is never stored: the key carries its hash.
const (
	fUserCode = "uc"
	fClientID = "cid"
	fLabel    = "lbl"
	fIP       = "ip"
	fCreated  = "ca"
	fExpires  = "exp"
	fInterval = "ivl"
	fLastPoll = "lp"   // optional
	fStatus   = "st"   // one of the domain.FlowStatus values
	fSubject  = "subj" // optional, JSON (subjectDoc)
	fClaim    = "cl"   // optional
	fClaimExp = "clx"  // optional
	fPKCE     = "pkce" // optional: the S256 code challenge (poll.lua compares it)
)

// subjectDoc is the stored JSON shape of a domain.Subject. Workspaces keeps
// nil (null) apart from empty ([]).
type subjectDoc struct {
	Type               string         `json:"type"`
	Email              string         `json:"email"`
	Issuer             string         `json:"issuer"`
	AccountID          string         `json:"account_id,omitempty"`
	AccountName        string         `json:"account_name,omitempty"`
	Workspaces         []workspaceDoc `json:"workspaces"`
	DefaultWorkspaceID string         `json:"default_workspace_id,omitempty"`
}

type workspaceDoc struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Current bool   `json:"current,omitempty"`
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// encodeFlow returns the flow as HSET field/value pairs.
func encodeFlow(f domain.Flow) ([]string, error) {
	kv := []string{
		fUserCode, f.UserCode, fClientID, f.ClientID, fLabel, f.DeviceLabel, fIP, f.CreatedIP,
		fCreated, ms(f.CreatedAt), fExpires, ms(f.ExpiresAt),
		fInterval, strconv.FormatInt(f.Interval.Milliseconds(), 10), fStatus, string(f.Status),
	}
	if !f.LastPolledAt.IsZero() {
		kv = append(kv, fLastPoll, ms(f.LastPolledAt))
	}
	if f.Subject != nil {
		s, err := encodeSubject(*f.Subject)
		if err != nil {
			return nil, err
		}
		kv = append(kv, fSubject, s)
	}
	if f.ClaimID != "" {
		kv = append(kv, fClaim, f.ClaimID)
	}
	if !f.ClaimExpiresAt.IsZero() {
		kv = append(kv, fClaimExp, ms(f.ClaimExpiresAt))
	}
	if f.CodeChallenge != "" {
		kv = append(kv, fPKCE, f.CodeChallenge)
	}
	return kv, nil
}

func encodeSubject(s domain.Subject) (string, error) {
	d := subjectDoc{Type: string(s.Type), Email: s.Email, Issuer: s.Issuer, AccountID: s.AccountID,
		AccountName: s.AccountName, DefaultWorkspaceID: s.DefaultWorkspaceID}
	if s.Workspaces != nil {
		d.Workspaces = make([]workspaceDoc, len(s.Workspaces))
		for i, w := range s.Workspaces {
			d.Workspaces[i] = workspaceDoc{ID: w.ID, Name: w.Name, Role: w.Role, Current: w.Current}
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode subject: %w", err)
	}
	return string(b), nil
}

// decodeFlow rebuilds a flow from its hash (HGETALL) and key hash.
func decodeFlow(deviceCodeHash string, m map[string]string) (domain.Flow, error) {
	f := domain.Flow{
		DeviceCodeHash: deviceCodeHash,
		UserCode:       m[fUserCode],
		ClientID:       m[fClientID],
		DeviceLabel:    m[fLabel],
		CreatedIP:      m[fIP],
		Status:         domain.FlowStatus(m[fStatus]),
		ClaimID:        m[fClaim],
		CodeChallenge:  m[fPKCE],
	}
	var err error
	num := func(field string) (int64, bool) {
		v, ok := m[field]
		if !ok || err != nil {
			return 0, false
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			err = fmt.Errorf("decode flow field %s: %w", field, perr)
			return 0, false
		}
		return n, true
	}
	msTime := func(field string) time.Time {
		if n, ok := num(field); ok {
			return time.UnixMilli(n).UTC()
		}
		return time.Time{}
	}
	f.CreatedAt = msTime(fCreated)
	f.ExpiresAt = msTime(fExpires)
	f.LastPolledAt = msTime(fLastPoll)
	f.ClaimExpiresAt = msTime(fClaimExp)
	ivl, _ := num(fInterval)
	f.Interval = time.Duration(ivl) * time.Millisecond
	if err != nil {
		return domain.Flow{}, err
	}
	if s, ok := m[fSubject]; ok {
		var d subjectDoc
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			return domain.Flow{}, fmt.Errorf("decode subject: %w", err)
		}
		f.Subject = d.subject()
	}
	return f, nil
}

func (d subjectDoc) subject() *domain.Subject {
	s := &domain.Subject{Type: domain.SubjectType(d.Type), Email: d.Email, Issuer: d.Issuer,
		AccountID: d.AccountID, AccountName: d.AccountName, DefaultWorkspaceID: d.DefaultWorkspaceID}
	if d.Workspaces != nil {
		s.Workspaces = make([]domain.Workspace, len(d.Workspaces))
		for i, w := range d.Workspaces {
			s.Workspaces[i] = domain.Workspace{ID: w.ID, Name: w.Name, Role: w.Role, Current: w.Current}
		}
	}
	return s
}
