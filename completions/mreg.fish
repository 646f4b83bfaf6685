# fish completion for mreg(1)
#
# Each command's options sit between "# >>> NAME" and "# <<< NAME" markers;
# test/0002-contract.bats checks them against 'mreg NAME --help'.

set -l mreg_commands bench bulk-update default help import-dir list migrate search set-default show

function __mreg_values
    set -l cmd (commandline -opc)[1]
    $cmd __complete $argv 2>/dev/null
end

complete -c mreg -f

# >>> global
complete -c mreg -s d -l dsn -r -d 'libpq connection string or URI'
complete -c mreg -s v -l verbose -d 'print connection and pool details to stderr'
complete -c mreg -l actor -r -d 'name recorded in the audit log'
complete -c mreg -s h -l help -d 'show help and exit'
complete -c mreg -s V -l version -n "not __fish_seen_subcommand_from $mreg_commands" -d 'show version and exit'
# <<< global

complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a bench -d 'load-test the registry'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a bulk-update -d 'apply a batch of changes, all or nothing'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a default -d 'print the default model of a type'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a help -d 'show help for a command'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a import-dir -d 'import a tree of model files'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a list -d 'list models, providers, defaults or audit entries'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a migrate -d 'apply or inspect schema migrations'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a search -d 'ranked search over models'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a set-default -d 'make a model the default for its type'
complete -c mreg -n "not __fish_seen_subcommand_from $mreg_commands" -a show -d 'show one model in full'
complete -c mreg -n "__fish_seen_subcommand_from help" -a "$mreg_commands"

# >>> bench
complete -c mreg -n "__fish_seen_subcommand_from bench" -s w -l workload -x -a 'get-default list show search set-default import mixed' -d 'workload to run'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l mix -x -d 'weights of a mixed workload (NAME=W,...)'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l type -x -a '(__mreg_values types)' -d 'get-default and list: only this type'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l import-files -x -d 'import: model files per client'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l import-change -x -d 'import: percent of the files rewritten per request'
complete -c mreg -n "__fish_seen_subcommand_from bench" -s c -l clients -x -d 'concurrent clients'
complete -c mreg -n "__fish_seen_subcommand_from bench" -s j -l threads -x -d 'worker threads'
complete -c mreg -n "__fish_seen_subcommand_from bench" -s T -l duration -x -d 'run this long after the warmup'
complete -c mreg -n "__fish_seen_subcommand_from bench" -s t -l transactions -x -d 'run N requests in all'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l warmup -x -d 'run this long first without recording'
complete -c mreg -n "__fish_seen_subcommand_from bench" -s R -l rate -x -d 'open loop: requests per second in all'
complete -c mreg -n "__fish_seen_subcommand_from bench" -s P -l progress -x -d 'print a progress line this often'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l seed -x -d 'seed of the parameter choices'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l pool-size -x -d 'connections in the pool'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l pool-timeout -x -d 'give up waiting for a pooled connection'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l protocol -x -a 'prepared extended' -d 'statement protocol'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l connect-per-request -d 'open a new connection for every request'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l populate -x -d 'fill the registry with N synthetic models first'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l force-populate -d 'populate or import next to models bench did not create'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l keep -d 'keep the synthetic models after the run'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l cleanup -d 'remove synthetic models left by --keep'
complete -c mreg -n "__fish_seen_subcommand_from bench" -l format -x -a 'table json' -d 'report format'
# <<< bench

# >>> migrate
complete -c mreg -n "__fish_seen_subcommand_from migrate" -a status -d 'show applied and pending migrations'
complete -c mreg -n "__fish_seen_subcommand_from migrate" -l dry-run -d 'print what would run, change nothing'
complete -c mreg -n "__fish_seen_subcommand_from migrate" -l exit-code -d 'with status: exit 5 when migrations are pending'
complete -c mreg -n "__fish_seen_subcommand_from migrate" -l format -x -a 'table json' -d 'output format of status'
complete -c mreg -n "__fish_seen_subcommand_from migrate" -l lock-timeout -x -d 'how long to wait for another migrate'
complete -c mreg -n "__fish_seen_subcommand_from migrate" -l ddl-lock-timeout -x -d 'lock_timeout for each migration'
complete -c mreg -n "__fish_seen_subcommand_from migrate" -s q -l quiet -d 'print only errors'
# <<< migrate

# >>> list
complete -c mreg -n "__fish_seen_subcommand_from list" -a 'models providers defaults audit' -d 'what to list'
complete -c mreg -n "__fish_seen_subcommand_from list" -s o -l format -x -a 'table json ndjson csv' -d 'output format'
complete -c mreg -n "__fish_seen_subcommand_from list" -l limit -x -d 'a page of at most N rows'
complete -c mreg -n "__fish_seen_subcommand_from list" -l after -x -d 'the page after this cursor'
complete -c mreg -n "__fish_seen_subcommand_from list" -l count -d 'also report the total'
complete -c mreg -n "__fish_seen_subcommand_from list" -l explain -d 'print the query plan instead of rows'
complete -c mreg -n "__fish_seen_subcommand_from list" -l type -x -a '(__mreg_values types)' -d 'only models of this type'
complete -c mreg -n "__fish_seen_subcommand_from list" -l provider -x -a '(__mreg_values providers)' -d 'only models of this provider'
complete -c mreg -n "__fish_seen_subcommand_from list" -l tag -x -d 'only models with this tag'
complete -c mreg -n "__fish_seen_subcommand_from list" -l active -d 'only active models'
complete -c mreg -n "__fish_seen_subcommand_from list" -l inactive -d 'only inactive models'
complete -c mreg -n "__fish_seen_subcommand_from list" -l all -d 'active and inactive models'
complete -c mreg -n "__fish_seen_subcommand_from list" -l sort -x -a 'name updated' -d 'sort order'
complete -c mreg -n "__fish_seen_subcommand_from list" -l since -x -d 'audit entries at or after TIME'
complete -c mreg -n "__fish_seen_subcommand_from list" -l until -x -d 'audit entries before TIME'
complete -c mreg -n "__fish_seen_subcommand_from list" -l actor -x -d 'audit entries by this actor'
complete -c mreg -n "__fish_seen_subcommand_from list" -l action -x -a 'model.create model.update model.deactivate default.set' -d 'audit entries of this action'
complete -c mreg -n "__fish_seen_subcommand_from list" -l model -x -a '(__mreg_values models (commandline -ct))' -d 'audit entries about this model'
# <<< list

# >>> show
complete -c mreg -n "__fish_seen_subcommand_from show" -x -a '(__mreg_values models (commandline -ct))'
complete -c mreg -n "__fish_seen_subcommand_from show" -s o -l format -x -a 'table json ndjson csv' -d 'output format'
complete -c mreg -n "__fish_seen_subcommand_from show" -l audit -x -d 'how many recent audit entries'
# <<< show

# >>> search
complete -c mreg -n "__fish_seen_subcommand_from search" -l type -x -a '(__mreg_values types)' -d 'only models of this type'
complete -c mreg -n "__fish_seen_subcommand_from search" -l provider -x -a '(__mreg_values providers)' -d 'only models of this provider'
complete -c mreg -n "__fish_seen_subcommand_from search" -l limit -x -d 'at most N results'
complete -c mreg -n "__fish_seen_subcommand_from search" -s o -l format -x -a 'table json ndjson csv' -d 'output format'
complete -c mreg -n "__fish_seen_subcommand_from search" -l explain -d 'print the query plan instead of results'
# <<< search

# >>> default
complete -c mreg -n "__fish_seen_subcommand_from default" -x -a '(__mreg_values types)'
# <<< default

# >>> set-default
complete -c mreg -n "__fish_seen_subcommand_from set-default" -x -a '(__mreg_values models (commandline -ct))'
complete -c mreg -n "__fish_seen_subcommand_from set-default" -s q -l quiet -d 'print only errors'
# <<< set-default
# >>> import-dir
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -F -a '(__fish_complete_directories)'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l pattern -x -d 'files to import (default *.json)'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l source -x -d 'name the source'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l max-file-size -x -d 'reject larger files (default 1M)'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l follow-external-links -d 'follow symbolic links that lead out of DIR'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -s j -l jobs -x -d 'worker threads'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l batch-size -x -d 'files per database transaction'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l rehash -d 'ignore the content-hash cache'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l strict -d 'any bad file aborts the run'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l dry-run -d 'do everything but commit'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l prune -d 'deactivate the models of files that disappeared'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l wait -d 'wait for another import of the same source'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l format -x -a 'text json' -d 'summary format'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -l progress -d 'show progress even when not a terminal'
complete -c mreg -n "__fish_seen_subcommand_from import-dir" -s q -l quiet -d 'no progress and no text summary'
# <<< import-dir
# >>> bulk-update
complete -c mreg -n "__fish_seen_subcommand_from bulk-update" -F -d 'batch file (NDJSON or JSON array, - for stdin)'
complete -c mreg -n "__fish_seen_subcommand_from bulk-update" -s n -l dry-run -d 'validate and show what would change, write nothing'
complete -c mreg -n "__fish_seen_subcommand_from bulk-update" -l format -x -a 'table json' -d 'output format'
# <<< bulk-update
