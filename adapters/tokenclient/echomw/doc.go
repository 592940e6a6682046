// Package echomw is the Echo v4 form of tokenclient.Middleware, kept apart
// so net/http users of tokenclient do not pull Echo in.
package echomw
