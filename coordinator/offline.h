/* The coordinator's offline subcommands, how users test a config before deploying it:
 *   crescendo-coordinator evaluate < INPUT.json        one decision for one input
 *   crescendo-coordinator replay [OPTIONS] TRACE.jsonl  recorded samples in simulated time
 * No Kafka, no clock: both run the decision core (window, policy engine) on their input.
 * Formats and examples: docs/policies.md ("Trying a config offline"). */
#ifndef CRESC_COORD_OFFLINE_H
#define CRESC_COORD_OFFLINE_H

#include <stdio.h>

/* argv[1] is "evaluate" or "replay". Returns the process exit code: 0 success, 1 an I/O
 * failure (unreadable file), 2 bad usage or bad input (the message on stderr names the
 * field). */
int cresc_offline_main(int argc, char **argv);

/* The two commands on explicit streams (tests call these directly). */
int cresc_offline_evaluate(FILE *in, FILE *out, FILE *err);
int cresc_offline_replay(int argc, char **argv, FILE *out, FILE *err);

#endif
