# ctest thread_count_independence: runs DIGEST (threads_digest) with KILN_NUM_THREADS=1 and =3, with the conv's
# Winograd path allowed and switched off, and fails unless the thread count changes no digest.
# Usage: cmake -DDIGEST=path -P thread_count_independence.cmake
foreach(wino 1 0)
  foreach(threads 1 3)
    execute_process(COMMAND ${CMAKE_COMMAND} -E env KILN_NUM_THREADS=${threads} KILN_CONV_WINOGRAD=${wino} ${DIGEST}
                    OUTPUT_VARIABLE out_${threads} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "threads_digest (${threads} thread(s), KILN_CONV_WINOGRAD=${wino}) failed (${rc}):\n${out_${threads}}")
    endif()
  endforeach()
  if(NOT out_1 STREQUAL out_3)
    message(FATAL_ERROR "results depend on the thread count (KILN_CONV_WINOGRAD=${wino})\n1 thread:\n${out_1}\n3 threads:\n${out_3}")
  endif()
  string(REGEX MATCHALL "\n" lines "${out_1}")
  list(LENGTH lines count)
  message(STATUS "thread_count_independence: ${count} outputs identical with 1 and 3 threads (KILN_CONV_WINOGRAD=${wino})")
endforeach()
