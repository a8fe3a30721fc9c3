// Package webui is Backlot's portal: server-rendered HTML pages over the same
// read models and services the HTTP API serves, with one small script of our
// own for progressive enhancement (search as you type, live updates from the
// event stream, keyboard shortcuts) and one stylesheet, both embedded.
//
// Each page registers itself from its own file (see Register) with the
// section of the navigation it belongs to, its route, its template and the
// permission (policies/permission) a principal needs to see it. New builds
// the handler; Server.Routes lists what it serves for the app's Manifest,
// and Mount places it beside the API on one port.
//
// Every page renders as the request's principal: the one Config.Identify
// names, or the guest when the server has no authenticator. A page's state
// (query, filters, sort, page, instant) lives in its URL, so every page is
// linkable and the back button works.
package webui
