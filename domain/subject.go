package domain

// SubjectType names who a token or approval speaks for.
type SubjectType string

// Subject types, as they appear on the wire.
const (
	SubjectAccount     SubjectType = "account"
	SubjectExternalSSO SubjectType = "external_sso"
)

// AccountIssuer is the subject_issuer sentinel stored for account subjects
// (NULLs are distinct in a unique index, so accounts need a real value).
const AccountIssuer = "dify:account"

// Workspace is one workspace membership of an account.
type Workspace struct {
	ID      string
	Name    string
	Role    string
	Current bool
}

// Account is a user known to the account directory.
type Account struct {
	ID     string
	Email  string
	Name   string
	Active bool
}

// Subject is who approved a flow: an account (with its workspaces) or an
// external SSO identity (email + issuer, no account).
type Subject struct {
	Type               SubjectType
	Email              string
	Issuer             string
	AccountID          string
	AccountName        string
	Workspaces         []Workspace
	DefaultWorkspaceID string
}

// AccountSubject builds the subject for an account approval, picking the
// default workspace: the session's active one if a member, else the one
// flagged current, else the first, else none.
func AccountSubject(a Account, workspaces []Workspace, activeWorkspaceID string) Subject {
	return Subject{
		Type:               SubjectAccount,
		Email:              a.Email,
		Issuer:             AccountIssuer,
		AccountID:          a.ID,
		AccountName:        a.Name,
		Workspaces:         workspaces,
		DefaultWorkspaceID: DefaultWorkspace(workspaces, activeWorkspaceID),
	}
}

// DefaultWorkspace picks the default workspace id ("" when there is none).
func DefaultWorkspace(workspaces []Workspace, activeWorkspaceID string) string {
	if activeWorkspaceID != "" {
		for _, w := range workspaces {
			if w.ID == activeWorkspaceID {
				return w.ID
			}
		}
	}
	for _, w := range workspaces {
		if w.Current {
			return w.ID
		}
	}
	if len(workspaces) > 0 {
		return workspaces[0].ID
	}
	return ""
}
