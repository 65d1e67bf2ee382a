// Go's unbuffered channel in the async shapes of examples/compare.rs, for `.ci/vs-go`: the same
// message counts, producers and consumers as the Rust rows (goroutines in place of tokio tasks),
// GOMAXPROCS=2 as on two tokio workers. Not part of the crate; the Rust side does not build it.
//
//	go run ./benches/go ROW N   prints "<wall ns> <cpu s>", as `compare --once` does
//
// ROW: async_spsc_mt, async_mpmc4x4_mt, async_mpsc4x1_mt, pingpong_async_mt.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// cpuTime is the process's user and system time, every thread.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// stream: `producers` goroutines send 0..n between them (producer k sends its share, as the Rust
// rows' `share`), `consumers` goroutines receive until the channel is closed; checks the sum.
func stream(producers, consumers, n int) {
	ch := make(chan int)
	var sent sync.WaitGroup
	sums := make(chan int, consumers)
	for c := 0; c < consumers; c++ {
		go func() {
			sum := 0
			for v := range ch {
				sum += v
			}
			sums <- sum
		}()
	}
	for k := 0; k < producers; k++ {
		sent.Add(1)
		go func(lo, hi int) {
			defer sent.Done()
			for i := lo; i < hi; i++ {
				ch <- i
			}
		}(k*n/producers, (k+1)*n/producers)
	}
	sent.Wait()
	close(ch)
	total := 0
	for c := 0; c < consumers; c++ {
		total += <-sums
	}
	check(total, n)
}

// pingPong: n request/response round trips between two goroutines over two channels.
func pingPong(n int) {
	req, resp := make(chan int), make(chan int)
	go func() {
		for v := range req {
			resp <- v
		}
	}()
	sum := 0
	for i := 0; i < n; i++ {
		req <- i
		sum += <-resp
	}
	close(req)
	check(sum, n)
}

func check(sum, n int) {
	if sum != n*(n-1)/2 {
		panic(fmt.Sprintf("sum %d, want %d", sum, n*(n-1)/2))
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run ./benches/go ROW N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		panic(err)
	}
	runtime.GOMAXPROCS(2)
	var run func()
	switch os.Args[1] {
	case "async_spsc_mt":
		run = func() { stream(1, 1, n) }
	case "async_mpmc4x4_mt":
		run = func() { stream(4, 4, n) }
	case "async_mpsc4x1_mt":
		run = func() { stream(4, 1, n) }
	case "pingpong_async_mt":
		run = func() { pingPong(n) }
	default:
		fmt.Fprintf(os.Stderr, "no row %s\n", os.Args[1])
		os.Exit(2)
	}
	cpu := cpuTime()
	start := time.Now()
	run()
	wall := time.Since(start)
	fmt.Printf("%d %f\n", wall.Nanoseconds(), (cpuTime() - cpu).Seconds())
}
