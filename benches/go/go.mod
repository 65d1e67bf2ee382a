module rendez-vs-go

go 1.19
