// A bad command line: the bench scripts print the message and their usage, and exit 2.
export class UsageError extends Error {}
