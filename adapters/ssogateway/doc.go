// Package ssogateway speaks the enterprise service's SSO contract (SPEC 2.6,
// 7.2): sso-initiate hands it the signed state envelope and redirects the
// browser to the URL it answers. The enterprise service later sends the
// browser to sso-complete with an assertion signed with SECRET_KEY.
package ssogateway
