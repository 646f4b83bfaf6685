#!/bin/sh
# gen-models.sh DIR N [SEED] - write N synthetic model files under DIR
#
# Deterministic: the same N and SEED give byte-identical files.  Files are
# spread over 100 directories (providers p00..p19, types llm, embedding,
# reranker) and are 400-700 bytes each, like real model files.
set -eu
dir=$1
n=$2
seed=${3:-1}
mkdir -p "$dir"
exec awk -v dir="$dir" -v n="$n" -v seed="$seed" '
BEGIN {
	split("llm embedding reranker", types, " ")
	srand(seed)
	for (d = 0; d < 100; d++)
		system("mkdir -p \"" dir "/d" sprintf("%02d", d) "\"")
	for (i = 0; i < n; i++) {
		d = i % 100
		p = sprintf("p%02d", i % 20)
		t = types[(i % 3) + 1]
		f = sprintf("%s/d%02d/m%07d.json", dir, d, i)
		ctx = 1024 * (1 + int(rand() * 128))
		printf("{\n  \"name\": \"model-%07d\",\n  \"provider\": \"%s\",\n", i, p) > f
		printf("  \"type\": \"%s\",\n  \"version\": \"%d.%d\",\n", t, int(rand() * 5), int(rand() * 10)) > f
		printf("  \"display_name\": \"Model %d\",\n", i) > f
		printf("  \"description\": \"Synthetic %s model number %d for the import benchmark, seed %d.\",\n", t, i, seed) > f
		printf("  \"tags\": [\"synthetic\", \"%s\", \"batch-%d\"],\n", t, int(i / 1000)) > f
		printf("  \"synonyms\": [\"m%d\"],\n", i) > f
		printf("  \"config\": {\"context_window\": %d, \"temperature\": %.2f},\n", ctx, rand()) > f
		printf("  \"metadata\": {\"license\": \"apache-2.0\", \"owner\": \"team-%d\", \"rank\": %d}\n}\n", i % 37, int(rand() * 100000)) > f
		close(f)
	}
}'
