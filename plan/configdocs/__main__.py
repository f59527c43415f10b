import sys

from plan.configdocs import main

sys.exit(main(sys.argv[1:]))
