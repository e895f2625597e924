// The ApplicationGateways module: FTP and TFTP helpers that read a committed connection's
// control traffic and announce the data connections it opens, as expectations.
