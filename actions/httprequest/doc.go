// Command backlot-action-http-request is http:backstage:request as a Backlot
// executable action: it calls Backlot's own API at BACKLOT_URL + "/api" +
// input.path with the task user's token (the task secret backstageToken,
// given as BACKLOT_SECRET_BACKSTAGETOKEN) and answers the status code,
// headers and body. It dials through workflows/netguard's guarded dialer,
// allowed to reach the API's host alone: a path cannot lead it elsewhere,
// and redirects are not followed.
package main
