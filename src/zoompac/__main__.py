from zoompac.cli.main import main

main()
