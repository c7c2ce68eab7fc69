# Plots two tachyon-gen ramps side by side (bench/memif_bench.sh,
# bench/veth_bench.sh): answered (and actually sent) against offered rate
# -- a sent rate below the offered one means the generator was the limit --,
# round-trip time percentiles, and the processing time the servers state in
# their answers (transmit - receive timestamp). Input: gen_results.py tsv
# files.
#
#   gnuplot -e "out='x.png'; heading='...'; f1='a.tsv'; n1='tachyond'; f2='b.tsv'; n2='chronyd'" bench/plot.gnuplot
#
# Columns: 1 offered, 2 sent, 3 answered, 4 lost %, 5-7 RTT p50/p99/p99.9,
# 8-9 processing p50/p99 (us), 10 passed.

set terminal pngcairo size 1500,620 font "sans,10" noenhanced
set output out
set datafile separator "\t"
set datafile missing "NaN"
set key below maxrows 3
set grid
set multiplot layout 1,3 title heading font "sans,12"

set title "answered vs offered (crosses: what the generator sent)"
set xlabel "offered, requests/s"
set ylabel "answered, requests/s"
set format x "%.1s%c"
set format y "%.1s%c"
set logscale xy
plot f1 using 1:3 with linespoints pt 7 lc rgb "#1f77b4" title n1." answered", \
     f2 using 1:3 with linespoints pt 5 lc rgb "#d62728" title n2." answered", \
     f1 using 1:2 with points pt 1 lc rgb "#1f77b4" title n1." run: sent", \
     f2 using 1:2 with points pt 2 lc rgb "#d62728" title n2." run: sent", \
     x with lines dt 2 lc rgb "#888888" title "= offered"

set title "round-trip time"
set ylabel "microseconds"
set format y "%g"
plot f1 using 1:5 with linespoints pt 7 lc rgb "#1f77b4" title n1." p50", \
     f1 using 1:6 with linespoints pt 6 dt 2 lc rgb "#1f77b4" title n1." p99", \
     f1 using 1:7 with linespoints pt 4 dt 3 lc rgb "#1f77b4" title n1." p99.9", \
     f2 using 1:5 with linespoints pt 5 lc rgb "#d62728" title n2." p50", \
     f2 using 1:6 with linespoints pt 6 dt 2 lc rgb "#d62728" title n2." p99", \
     f2 using 1:7 with linespoints pt 4 dt 3 lc rgb "#d62728" title n2." p99.9"

set title "server processing time stated in the answers (transmit - receive)"
plot f1 using 1:8 with linespoints pt 7 lc rgb "#1f77b4" title n1." p50", \
     f1 using 1:9 with linespoints pt 6 dt 2 lc rgb "#1f77b4" title n1." p99", \
     f2 using 1:8 with linespoints pt 5 lc rgb "#d62728" title n2." p50", \
     f2 using 1:9 with linespoints pt 6 dt 2 lc rgb "#d62728" title n2." p99"

unset multiplot
