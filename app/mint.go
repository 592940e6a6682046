package app

import (
	"context"
	"fmt"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Minter issues tokens by rotating in place (SPEC 3.3). The plaintext token
// exists only in its return value.
type Minter struct {
	Env
	Tokens ports.TokenRepository
	Cache  ports.TokenCache // optional
	Kinds  *domain.KindRegistry
	TTL    time.Duration
}

// Minted is a freshly issued token and its row.
type Minted struct {
	Token   string
	Row     domain.AccessToken
	Kind    domain.TokenKind
	Rotated bool
}

// Mint issues a token for subject on (clientID, deviceLabel). It emits no
// audit event: a minted token may still be withheld (a poll that lost its
// claim), so oauth.token_issued is the deliverer's to emit.
func (m *Minter) Mint(ctx context.Context, s domain.Subject, clientID, deviceLabel string) (Minted, error) {
	kind, ok := m.Kinds.KindForSubject(s.Type)
	if !ok {
		return Minted{}, fmt.Errorf("mint: no token kind for subject %q", s.Type)
	}
	token, err := kind.NewToken(m.rand())
	if err != nil {
		return Minted{}, err
	}
	id, err := domain.NewUUID(m.rand())
	if err != nil {
		return Minted{}, err
	}
	now := m.now()
	row := domain.AccessToken{
		ID: id, SubjectEmail: s.Email, SubjectIssuer: s.Issuer, AccountID: s.AccountID,
		ClientID: clientID, DeviceLabel: deviceLabel, Prefix: kind.Prefix,
		TokenHash: domain.HashSecret(token), CreatedAt: now, ExpiresAt: now.Add(m.TTL),
	}
	if s.Type == domain.SubjectAccount {
		row.SubjectIssuer = domain.AccountIssuer
	}
	if err := row.CheckBinding(); err != nil {
		return Minted{}, fmt.Errorf("mint: %w", err)
	}
	res, err := m.Tokens.Mint(ctx, row)
	if err != nil {
		return Minted{}, fmt.Errorf("mint: %w", err)
	}
	if res.ReplacedHash != "" && m.Cache != nil {
		if err := m.Cache.Invalidate(ctx, res.ReplacedHash); err != nil {
			m.log().WarnContext(ctx, "token cache invalidation failed after rotation", "token_id", res.Token.ID, "err", err)
		}
	}
	return Minted{Token: token, Row: res.Token, Kind: kind, Rotated: res.Rotated}, nil
}

// issuedEvent is the oauth.token_issued record of a minted token for s. The
// caller emits it only once the token is delivered (see Poll.Execute).
// Rotated is the repository's answer: the mint replaced the device's live
// row in place, so the token it held stopped working.
func issuedEvent(s domain.Subject, m Minted) domain.AuditEvent {
	rotated := m.Rotated
	return domain.AuditEvent{
		Name: domain.EventTokenIssued, TokenID: m.Row.ID, TokenPrefix: m.Kind.Prefix, SubjectType: s.Type,
		SubjectEmail: s.Email, SubjectIssuer: m.Row.SubjectIssuer, AccountID: s.AccountID,
		WorkspaceID: s.DefaultWorkspaceID, ClientID: m.Row.ClientID, DeviceLabel: m.Row.DeviceLabel,
		Scopes: m.Kind.Scopes, ExpiresAt: m.Row.ExpiresAt, Rotated: &rotated,
	}
}
